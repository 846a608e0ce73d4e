// node:fs behind the run-config resolution's probe (resolveRunConfig.ts), for the language server and the sidecar.
// Sync on purpose: a config names three small paths at most, and the model's header is read without its tokenizer
// arrays. The model goes through the load guard (modelCheck.ts → gguf/openModelFile.ts), so its problems read as in
// chat, eval and export.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { GgufAccessError, ModelFileError, type GgufFile } from "../gguf";
import { readModelHeader } from "./modelCheck";
import type { RunConfigProbe, UnusableModel } from "./resolveRunConfig";

type ProbedHeader = Pick<GgufFile, "kv" | "tensors"> | UnusableModel;

/** errno codes that mean "nothing there" (a relative path resolved against the wrong folder, a typo). */
const MISSING_CODES = new Set(["ENOENT", "ENOTDIR"]);

/** The guard's refusal as the probe reports it: its message, and the kind of problem for the diagnostic code. */
function unusable(error: ModelFileError): UnusableModel {
    const reason = error.reason;
    if (reason === undefined) return { unreadable: error.message, cause: "not-a-base-model" };
    if (reason instanceof GgufAccessError) return { unreadable: error.message, cause: MISSING_CODES.has(reason.code) ? "missing" : "unreadable" };
    // Offset 0: not even the magic bytes are there (another format, an empty file).
    return { unreadable: error.message, cause: reason.problem === "bad-magic" || reason.offset === 0 ? "not-gguf" : "damaged" };
}

function guardedHeader(path: string): ProbedHeader {
    try {
        const file = readModelHeader(path);
        return { kv: file.kv, tensors: file.tensors };
    } catch (error) {
        if (error instanceof ModelFileError) return unusable(error);
        throw error;
    }
}

/**
 * Model headers by path, kept while the file's size, modification and change times stay the same: the language server
 * re-checks a config on every pause in typing, and a model's header still takes ~0.1 s to read.
 */
const headerCache = new Map<string, { stamp: string; header: ProbedHeader }>();
const HEADER_CACHE_ENTRIES = 16;

function cachedModelHeader(path: string): ProbedHeader {
    let stamp: string;
    try {
        const st = statSync(path);
        // ctime too: a chmod that makes an unreadable model readable changes no size or mtime.
        stamp = `${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch {
        return guardedHeader(path); // nothing to key a cache entry on: the guard says what is wrong
    }
    const hit = headerCache.get(path);
    if (hit?.stamp === stamp) return hit.header;
    const header = guardedHeader(path);
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
