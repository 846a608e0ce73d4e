// Reads a dataset file with bounds, for every reader of JSONL from a path (the CLI's validate, evaluation, training's
// dataset preparation): at most MAX_DATASET_BYTES in all and MAX_DATASET_LINE_BYTES per line, then it stops and says
// so. Without the bounds `lora-studio validate /dev/zero` read until memory ran out; with them a device, a FIFO or a
// binary file given by mistake fails after a few megabytes with the file named.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** Largest dataset read as a whole: well under V8's string limit (~512 M characters) once decoded. */
export const MAX_DATASET_BYTES = 256 * 1024 * 1024;
/** Longest line: a chat example of a 128k-token context is about 0.5 MB; 8 MiB is far beyond any real example. */
export const MAX_DATASET_LINE_BYTES = 8 * 1024 * 1024;

export class DatasetReadError extends Error {
    constructor(readonly path: string, readonly reason: "unreadable" | "folder" | "too-large" | "line-too-long", message: string) {
        super(message);
        this.name = "DatasetReadError";
    }
}

export interface DatasetReadLimits {
    maxBytes?: number;
    maxLineBytes?: number;
}

const READ_CHUNK = 1 << 20;

/** The file's bytes, or a DatasetReadError that names the file (and the line, for an over-long one) and the bound. */
export function readDatasetFile(path: string, limits: DatasetReadLimits = {}): Uint8Array {
    const maxBytes = limits.maxBytes ?? MAX_DATASET_BYTES;
    const maxLine = limits.maxLineBytes ?? MAX_DATASET_LINE_BYTES;
    let fd: number;
    try {
        fd = openSync(path, "r");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        const words = code === "ENOENT" ? "ENOENT (it does not exist)" : code === "EACCES" ? "EACCES (permission denied)" : code;
        throw new DatasetReadError(path, "unreadable", `cannot read ${path}: ${words}`);
    }
    try {
        if (fstatSync(fd).isDirectory()) throw new DatasetReadError(path, "folder", `${path} is a folder, not a dataset file`);
        const chunks: Buffer[] = [];
        let total = 0;
        let line = 1;
        let lineBytes = 0;
        for (;;) {
            const chunk = Buffer.alloc(READ_CHUNK);
            let got: number;
            try {
                got = readSync(fd, chunk, 0, READ_CHUNK, null);
            } catch (error) {
                throw new DatasetReadError(path, "unreadable", `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
            }
            if (got === 0) break;
            for (let start = 0; start < got;) {
                const newline = chunk.indexOf(0x0a, start);
                const end = newline === -1 || newline >= got ? got : newline;
                lineBytes += end - start;
                if (lineBytes > maxLine) {
                    throw new DatasetReadError(path, "line-too-long", `${path}: line ${line} is longer than ${maxLine} bytes; stopped reading (is it a JSONL dataset?)`);
                }
                if (end === got) break;
                line++;
                lineBytes = 0;
                start = end + 1;
            }
            total += got;
            if (total > maxBytes) throw new DatasetReadError(path, "too-large", `${path} is larger than ${maxBytes} bytes; stopped reading (split the dataset into smaller files)`);
            chunks.push(got === READ_CHUNK ? chunk : chunk.subarray(0, got));
        }
        return Buffer.concat(chunks, total);
    } finally {
        closeSync(fd);
    }
}
