// The sidecar's view of its stdin: LSP-style frames ("Content-Length: N\r\n\r\n" + N bytes of JSON), parsed so that
// no byte stream can leave it deaf (issue 12.7). vscode-jsonrpc's own reader buffers garbage without end, waits
// forever on a negative or 1e12 Content-Length, and then never answers again. This parser instead:
//   - skips bytes that cannot start a frame up to the next "Content-Length:" (case-insensitive), reporting how many;
//   - refuses a header section without a valid Content-Length (a decimal 0..MAX_FRAME_BYTES), a header line without
//     ':' or a header longer than MAX_HEADER_BYTES, and looks for the next frame from just after where the bad one
//     began, so a valid frame glued to a bad one is still found;
//   - cuts a body short where a "Content-Length: N" header line appears in it: no valid JSON text contains one, so
//     the claimed length ran into the next frame, which is then read;
//   - hands every complete body on, with the problems reported through `onProblem`, never silently.
// Pure: bytes in, bodies and problems out. rpc/frameReader.ts wraps it for vscode-jsonrpc, main.ts logs the problems.

/** Largest body accepted; larger claims are refused, not buffered. A chat history of 1 M characters fits easily. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Largest header section. vscode-jsonrpc's own frames have one or two short lines. */
export const MAX_HEADER_BYTES = 8 * 1024;

export type FrameProblemKind = "garbage" | "bad-header" | "overrun";

export interface FrameProblem {
    kind: FrameProblemKind;
    /** What was wrong and what the parser did, for the log. */
    message: string;
    /** For "overrun": the body up to where the next frame began, to be answered with a parse error. */
    body?: Buffer;
}

const MARKER = Buffer.from("content-length:");
const HEADER_END = Buffer.from("\r\n\r\n");

/** RFC 7230 token characters, the only ones a header name may have. */
function isTokenByte(b: number): boolean {
    return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b));
}

/** Whether `buf` at `at` spells "content-length:" in any case. */
function markerAt(buf: Buffer, at: number): boolean {
    if (at + MARKER.length > buf.length) return false;
    for (let i = 0; i < MARKER.length; i++) {
        const b = buf[at + i]!;
        if ((b >= 0x41 && b <= 0x5a ? b + 0x20 : b) !== MARKER[i]) return false;
    }
    return true;
}

/** The next "content-length:" at or after `from`, or -1. */
function findMarker(buf: Buffer, from: number): number {
    for (let i = from; i + MARKER.length <= buf.length; i++) {
        const b = buf[i]!;
        if ((b === 0x43 || b === 0x63) && markerAt(buf, i)) return i;
    }
    return -1;
}

/** "yes" when `buf` starts like a header line (token then ':'), "no" when it cannot, "maybe" when too short to say. */
function startsLikeHeader(buf: Buffer): "yes" | "no" | "maybe" {
    for (let i = 0; i < buf.length && i < MAX_HEADER_BYTES; i++) {
        const b = buf[i]!;
        if (b === 0x3a) return i > 0 ? "yes" : "no";
        if (!isTokenByte(b)) return "no";
    }
    return buf.length >= MAX_HEADER_BYTES ? "no" : "maybe";
}

/** The body length a header section declares, or why it declares none. */
function contentLengthOf(header: string): number | string {
    let length: number | undefined;
    for (const line of header.split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon <= 0) return `header line ${JSON.stringify(line.slice(0, 40))} has no "name: value"`;
        const rawName = line.slice(0, colon);
        // A name of token characters and a value without control characters, or it is not a header (a body glued on).
        if (![...rawName].every((ch) => isTokenByte(ch.charCodeAt(0)))) return `header name ${JSON.stringify(rawName.slice(0, 40))} is not a token`;
        if (/[\x00-\x08\x0a-\x1f\x7f]/.test(line)) return `header line ${JSON.stringify(line.slice(0, 40))} has a control character`;
        const name = rawName.toLowerCase();
        // The base protocol has two headers. Anything else is a frame glued onto garbage (or garbage that looks like a
        // header), and "content-length:" further into a line is the start of the next frame: refuse, resync there.
        if (name !== "content-length" && name !== "content-type") return `unknown header ${JSON.stringify(rawName.slice(0, 40))}`;
        if (findMarker(Buffer.from(line, "latin1"), 1) !== -1) return "a Content-Length inside another header line";
        const value = line.slice(colon + 1).trim();
        if (name === "content-length") {
            if (length !== undefined) return "two Content-Length headers";
            if (!/^\d+$/.test(value)) return `Content-Length ${JSON.stringify(value.slice(0, 40))} is not a whole number of bytes`;
            length = value.length > 12 ? Number.POSITIVE_INFINITY : Number(value);
            if (length > MAX_FRAME_BYTES) return `Content-Length ${length} exceeds the ${MAX_FRAME_BYTES}-byte limit`;
        } else if (name === "content-type" && !/charset\s*=\s*"?utf-?8"?/i.test(value) && /charset/i.test(value)) {
            return `Content-Type ${JSON.stringify(value.slice(0, 60))} names a charset other than UTF-8`;
        }
    }
    return length ?? "no Content-Length header";
}

export class FrameParser {
    private pending: Buffer = Buffer.alloc(0);
    /** Set while a body is being read. */
    private body: BodyState | undefined;
    /** Bytes skipped since the last frame, reported once the next frame starts (or when too many pile up). */
    private skipped = 0;

    constructor(private readonly onBody: (body: Buffer) => void, private readonly onProblem: (problem: FrameProblem) => void) {}

    /** Feeds the next bytes of the stream. */
    push(chunk: Buffer): void {
        if (this.body) this.feedBody(chunk);
        else this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
        while (!this.body && this.pending.length > 0 && this.readHeader()) {
            // readHeader consumed a header; the body may already be complete in what is pending.
            if (this.body) {
                const rest = this.pending;
                this.pending = Buffer.alloc(0);
                this.feedBody(rest);
            }
        }
    }

    /** Drops `n` bytes of garbage from the front, counting them for the next report. */
    private skip(n: number): void {
        this.skipped += n;
        this.pending = this.pending.subarray(n);
        if (this.skipped >= MAX_FRAME_BYTES) this.reportSkipped("still looking for a frame");
    }

    private reportSkipped(why: string): void {
        if (this.skipped === 0) return;
        this.onProblem({ kind: "garbage", message: `skipped ${this.skipped} byte(s) that are not a frame (${why})` });
        this.skipped = 0;
    }

    /**
     * Tries to read a header section at the front of `pending`. Returns false when it needs more bytes; true when it
     * consumed something (a header, or garbage) and the caller should look again.
     */
    private readHeader(): boolean {
        const shape = startsLikeHeader(this.pending);
        if (shape === "maybe") return false;
        if (shape === "no") {
            const next = findMarker(this.pending, 1);
            if (next === -1) {
                // Keep a tail that may be the start of a marker split across chunks.
                const keep = Math.min(this.pending.length, MARKER.length - 1);
                if (this.pending.length - keep === 0) return false;
                this.skip(this.pending.length - keep);
                return this.pending.length > 0 && startsLikeHeader(this.pending) === "yes";
            }
            this.skip(next);
            return true;
        }
        const end = this.pending.indexOf(HEADER_END);
        if (end === -1 || end > MAX_HEADER_BYTES) {
            if (end === -1 && this.pending.length <= MAX_HEADER_BYTES) return false;
            return this.refuseHeader(`no end of header within ${MAX_HEADER_BYTES} bytes`);
        }
        const header = this.pending.subarray(0, end).toString("latin1");
        const length = contentLengthOf(header);
        if (typeof length === "string") return this.refuseHeader(length);
        this.reportSkipped("before this frame");
        this.pending = this.pending.subarray(end + HEADER_END.length);
        this.body = { length, chunks: [], have: 0, tail: Buffer.alloc(0) };
        return true;
    }

    /** Reports a bad header and resumes the search just after where it began. */
    private refuseHeader(why: string): boolean {
        this.reportSkipped("before a bad header");
        const next = findMarker(this.pending, 1);
        const dropped = next === -1 ? this.pending.length : next;
        this.onProblem({ kind: "bad-header", message: `refused a frame header (${why}); looking for the next frame` });
        this.pending = this.pending.subarray(dropped);
        return true;
    }

    /** Adds body bytes; delivers the body once complete, or cuts it where the next frame shows it overran. */
    private feedBody(chunk: Buffer): void {
        const body = this.body!;
        const own = chunk.subarray(0, body.length - body.have);
        // Search the new bytes together with the end of the earlier ones, for a header line split across chunks.
        const window = Buffer.concat([body.tail, own]);
        const found = HEADER_LINE.exec(window.toString("latin1"));
        if (found) {
            const all = Buffer.concat([...body.chunks, chunk, this.pending]);
            this.overrun(body.length, all, body.have - body.tail.length + found.index);
            return;
        }
        body.chunks.push(own);
        body.have += own.length;
        body.tail = window.subarray(Math.max(0, window.length - TAIL_BYTES));
        if (body.have < body.length) return;
        this.body = undefined;
        const whole = body.chunks.length === 1 ? body.chunks[0]! : Buffer.concat(body.chunks);
        const rest = Buffer.concat([chunk.subarray(own.length), this.pending]);
        const tailStart = Math.max(0, whole.length - TAIL_BYTES);
        const partial = headerLineStart(whole.subarray(tailStart).toString("latin1"));
        if (partial >= 0) {
            this.overrun(body.length, Buffer.concat([whole, rest]), tailStart + partial);
            return;
        }
        this.pending = rest;
        this.onBody(whole);
    }

    /** The declared length ran into the next frame at `cut`: report the bytes before it, read on from there. */
    private overrun(declared: number, all: Buffer, cut: number): void {
        this.body = undefined;
        this.onProblem({ kind: "overrun", message: `a frame declared Content-Length ${declared} but the next frame began after ${cut} byte(s)`, body: all.subarray(0, cut) });
        this.pending = all.subarray(cut);
    }
}

/**
 * A header line inside a body: "Content-Length: N" and a raw CR LF. No JSON text contains it (a raw CR is invalid in a
 * string, and the words are invalid outside one), so a body that does is a frame whose length ran into the next one.
 */
const HEADER_LINE = /content-length:[ \t]*\d+\r\n/i;
/**
 * A body that ends in the start of such a line (a prefix beginning with "c"): no JSON text ends so either (it would
 * end outside a string with a bare letter or word), so the declared length stopped inside the next frame's header.
 */
function headerLineStart(tail: string): number {
    for (let i = 0; i < tail.length; i++) {
        if (tail[i] !== "c" && tail[i] !== "C") continue;
        const rest = tail.slice(i).toLowerCase();
        if ("content-length:".startsWith(rest) || /^content-length:[ \t]*\d*\r?$/.test(rest)) return i;
    }
    return -1;
}
/** Bytes kept from the end of a body for the searches above: a header line with a 10-digit length and some spaces. */
const TAIL_BYTES = 48;

interface BodyState {
    length: number;
    chunks: Buffer[];
    have: number;
    /** The last TAIL_BYTES bytes received. */
    tail: Buffer;
}
