// Atomic writes for the run store: write a temp file beside the target, fsync it, rename it over the
// target, then fsync the directory. A reader (or a sidecar restarted after kill -9) sees either the
// old file or the new one, never a half-written one.

import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";

/** Temp names start with this so listings can skip leftovers of a write that was killed. */
export const TEMP_PREFIX = ".tmp-";

export function tempPathFor(target: string): string {
    return join(dirname(target), `${TEMP_PREFIX}${basename(target)}-${process.pid}-${randomBytes(4).toString("hex")}`);
}

export function writeFileAtomic(target: string, data: string | Uint8Array): void {
    const temp = tempPathFor(target);
    try {
        const fd = openSync(temp, "w");
        try {
            writeAll(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
            fsyncSync(fd);
        } finally {
            closeSync(fd);
        }
        renameSync(temp, target);
    } catch (error) {
        rmSync(temp, { force: true });
        throw error;
    }
    fsyncDirectory(dirname(target));
}

export function writeJsonAtomic(target: string, value: unknown): void {
    writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Produces `target` through `write(tempPath)` (a file or a directory), then renames it into place.
 * Used for checkpoints and the adapter, which the engine writes itself.
 */
export async function commitAtomic(target: string, write: (tempPath: string) => Promise<void> | void): Promise<void> {
    const temp = tempPathFor(target);
    try {
        await write(temp);
        renameSync(temp, target);
    } catch (error) {
        rmSync(temp, { recursive: true, force: true });
        throw error;
    }
    fsyncDirectory(dirname(target));
}

function writeAll(fd: number, bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** Makes the rename itself durable. Not every platform can open a directory (Windows); that is fine there. */
export function fsyncDirectory(dir: string): void {
    let fd: number | undefined;
    try {
        fd = openSync(dir, "r");
        fsyncSync(fd);
    } catch {
        // Best effort: the rename has happened; only its durability across a power cut is at stake.
    } finally {
        if (fd !== undefined) closeSync(fd);
    }
}
