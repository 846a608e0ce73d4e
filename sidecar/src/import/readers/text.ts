// Text input in bounded memory: the file is read in chunks of READ_CHUNK_BYTES and decoded as UTF-8 across chunk
// boundaries, so a 1 GB file never sits in memory whole. Shared by the JSON and JSON Lines readers.
import { createReadStream } from "node:fs";
import type { ByteCounter } from "../types";

/** Read size: large enough that per-chunk overhead vanishes, small enough to keep memory flat. */
export const READ_CHUNK_BYTES = 1 << 20;

/** The longest line (or JSON array element) accepted; a longer one is a corrupt file or not text at all. */
export const MAX_RECORD_CHARS = 64 * 1024 * 1024;

/** Decoded text chunks of `path`, adding each chunk's byte count to `counter`. A leading BOM is dropped. */
export async function* textChunks(path: string, counter: ByteCounter): AsyncGenerator<string> {
    const decoder = new TextDecoder("utf-8");
    let first = true;
    const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
    try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
            counter.bytes += chunk.length;
            let text = decoder.decode(chunk, { stream: true });
            if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
            first = false;
            if (text !== "") yield text;
        }
        const rest = decoder.decode();
        if (rest !== "") yield rest;
    } finally {
        stream.destroy();
    }
}

/** The 1-based character column of a JSON.parse error ("… at position 12" in V8), if it says one. */
export function jsonErrorColumn(error: Error): number | undefined {
    const match = /position (\d+)/.exec(error.message);
    return match ? Number(match[1]) + 1 : undefined;
}

/** V8's JSON.parse message without its position suffix (the import states the place itself). */
export function jsonErrorText(error: Error): string {
    return error.message.replace(/\s*in JSON at position \d+(\s*\(line \d+ column \d+\))?/, "").replace(/^Unexpected/, "unexpected");
}
