// node:fs behind the run-config resolution's probe (resolveRunConfig.ts), for the language server and the sidecar.
// Sync on purpose: a config names three small paths at most, and the model's header is read without its tokenizer
// arrays.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { GgufFormatError, type GgufFile } from "../gguf";
import { readModelHeader } from "./modelCheck";
import type { RunConfigProbe } from "./resolveRunConfig";

type ProbedHeader = Pick<GgufFile, "kv" | "tensors"> | { unreadable: string };

/**
 * Model headers by path, kept while the file's size and modification time stay the same: the language server
 * re-checks a config on every pause in typing, and a model's header still takes ~0.1 s to read.
 */
const headerCache = new Map<string, { stamp: string; header: ProbedHeader }>();
const HEADER_CACHE_ENTRIES = 16;

function cachedModelHeader(path: string): ProbedHeader | undefined {
    let stamp: string;
    try {
        const st = statSync(path);
        stamp = `${st.size}:${st.mtimeMs}`;
    } catch {
        return undefined; // RC201 reports a missing file
    }
    const hit = headerCache.get(path);
    if (hit?.stamp === stamp) return hit.header;
    let header: ProbedHeader;
    try {
        const file = readModelHeader(path);
        header = { kv: file.kv, tensors: file.tensors };
    } catch (error) {
        const reason = error instanceof GgufFormatError ? error.message.replace(`${path}: `, "") : (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        header = { unreadable: reason };
    }
    if (headerCache.size >= HEADER_CACHE_ENTRIES) headerCache.delete(headerCache.keys().next().value!);
    headerCache.set(path, { stamp, header });
    return header;
}

export const nodeFileProbe: RunConfigProbe = {
    ggufHeader: cachedModelHeader,
    kind(path) {
        try {
            return statSync(path).isDirectory() ? "directory" : "file";
        } catch {
            return "missing";
        }
    },
    head(path, length) {
        let fd: number | undefined;
        try {
            fd = openSync(path, "r");
            const buffer = new Uint8Array(length);
            const read = readSync(fd, buffer, 0, length, 0);
            return buffer.subarray(0, read);
        } catch {
            return undefined;
        } finally {
            if (fd !== undefined) closeSync(fd);
        }
    }
};
