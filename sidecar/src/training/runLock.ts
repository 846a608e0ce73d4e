// One owner per run folder, across processes: `run.lock` holds the pid and host of the process that trains the run
// and whether it serves the editor or a terminal. run/start and run/resume take it before they write anything, so a
// second `lora-studio train --resume DIR` (or the editor resuming the run a terminal trains) is refused, naming the
// holder, instead of both writing metrics.jsonl and status.json.
//
// The lock file is made whole and then hard-linked into place: link() fails with EEXIST when the lock exists, so
// exactly one process wins, and a reader never sees a half-written lock. A lock whose process is gone (kill -9, a
// crash, a reboot) is stale: on the same host, a dead pid, a pid that now belongs to a process started later, or
// another boot. Breaking a stale lock renames it aside first and checks it is still the one judged stale, so two
// processes breaking the same stale lock cannot both end up holding the run.
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export const LOCK_FILE_NAME = "run.lock";

/** Who trains the run: the editor's sidecar or the one behind `lora-studio train` in a terminal. */
export type RunOwnerKind = "editor" | "terminal";

export interface RunLockOwner {
    kind: RunOwnerKind;
    /** The client's own description, e.g. "lora-studio-cli" or "vscode 1.100.0". */
    client: string;
}

/** The contents of run.lock. */
export interface RunLockHolder extends RunLockOwner {
    /** The process that trains the run (the sidecar). */
    pid: number;
    /** Its parent: the terminal's `lora-studio` or the editor's extension host, the process a user recognises. */
    parentPid: number;
    host: string;
    /** Linux: /proc/sys/kernel/random/boot_id and the process's start time in clock ticks, to spot a reused pid. */
    bootId?: string;
    startTicks?: number;
    acquiredAt: string;
    /** Tells this lock from a later one of the same pid. */
    nonce: string;
}

/** The run folder is held by another live process. */
export class RunLockedError extends Error {
    constructor(readonly runDirectory: string, readonly holder: RunLockHolder) {
        super(`${runDirectory} is in use: ${describeHolder(holder)} has been training it since ${holder.acquiredAt}`);
        this.name = "RunLockedError";
    }
}

/** "a terminal (lora-studio-cli, pid 4321; its sidecar pid 4322) on host h". */
export function describeHolder(holder: RunLockHolder): string {
    const who = holder.kind === "terminal" ? "a terminal" : "the editor";
    const host = holder.host === hostname() ? "" : ` on host ${holder.host}`;
    return `${who} (${holder.client}, pid ${holder.parentPid}; its sidecar pid ${holder.pid})${host}`;
}

/** Whether process `pid` exists. EPERM means it exists but belongs to someone else. */
function processExists(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

function readText(path: string): string | undefined {
    try {
        return readFileSync(path, "utf8").trim();
    } catch {
        return undefined;
    }
}

function bootId(): string | undefined {
    return readText("/proc/sys/kernel/random/boot_id");
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. Linux only. */
function startTicks(pid: number): number | undefined {
    const stat = readText(`/proc/${pid}/stat`);
    if (stat === undefined) return undefined;
    // The command name (field 2) is in parentheses and may hold spaces; count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
}

/** Stale: the holder ran on this host and is gone, or its pid now names a process started after it (or another boot). */
export function isStale(holder: RunLockHolder): boolean {
    if (holder.host !== hostname()) return false; // another machine's process cannot be checked from here
    const boot = bootId();
    if (holder.bootId !== undefined && boot !== undefined && holder.bootId !== boot) return true;
    if (!processExists(holder.pid)) return true;
    const ticks = startTicks(holder.pid);
    return holder.startTicks !== undefined && ticks !== undefined && ticks !== holder.startTicks;
}

function parseHolder(text: string | undefined): RunLockHolder | undefined {
    if (text === undefined) return undefined;
    try {
        const value = JSON.parse(text) as Partial<RunLockHolder>;
        if (typeof value.pid !== "number" || typeof value.host !== "string" || typeof value.nonce !== "string") return undefined;
        return value as RunLockHolder;
    } catch {
        return undefined;
    }
}

/** A held lock: release() removes run.lock if it is still this one. */
export class RunLock {
    constructor(readonly path: string, readonly holder: RunLockHolder) {}

    /** The lock after its folder was renamed into place (a run made in a temp folder). */
    movedTo(runDirectory: string): RunLock {
        return new RunLock(join(runDirectory, LOCK_FILE_NAME), this.holder);
    }

    release(): void {
        if (parseHolder(readText(this.path))?.nonce === this.holder.nonce) rmSync(this.path, { force: true });
    }
}

function writeWhole(path: string, text: string): void {
    const fd = openSync(path, "wx");
    try {
        writeSync(fd, text);
        fsyncSync(fd);
    } finally {
        closeSync(fd);
    }
}

/**
 * Takes the run folder's lock for this process, or throws RunLockedError naming the live holder. `heldHere` says
 * whether a lock of this very process is one it still uses (a leftover of this process is stale, too).
 */
export function acquireRunLock(runDirectory: string, owner: RunLockOwner, heldHere: (holder: RunLockHolder) => boolean = () => true): RunLock {
    const path = join(runDirectory, LOCK_FILE_NAME);
    const ticks = startTicks(process.pid);
    const boot = bootId();
    const holder: RunLockHolder = {
        ...owner, pid: process.pid, parentPid: process.ppid, host: hostname(),
        ...(boot === undefined ? {} : { bootId: boot }), ...(ticks === undefined ? {} : { startTicks: ticks }),
        acquiredAt: new Date().toISOString(), nonce: randomBytes(8).toString("hex")
    };
    // Not a TEMP_PREFIX name: a resume sweeps those away, and this one must live until link() has used it.
    const temp = `${path}.candidate-${process.pid}-${holder.nonce}`;
    writeWhole(temp, `${JSON.stringify(holder)}\n`);
    try {
        // A few rounds: each lost round means another process took or broke the lock meanwhile.
        for (let round = 0; round < 8; round++) {
            try {
                linkSync(temp, path);
                return new RunLock(path, holder);
            } catch (error) {
                if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
            }
            const text = readText(path);
            if (text === undefined) continue; // released between link() and the read: try again
            const current = parseHolder(text);
            const mine = current !== undefined && current.pid === process.pid && current.host === holder.host;
            const stale = current === undefined ? false : mine ? !heldHere(current) : isStale(current);
            if (current !== undefined && !stale) throw new RunLockedError(runDirectory, current);
            if (current === undefined) {
                // Unreadable: a lock is linked whole, so this is not one of ours mid-write; refuse rather than guess.
                throw new Error(`${path}: not a LoRA Studio run lock (${JSON.stringify(text.slice(0, 80))}); delete it if no other training uses ${runDirectory}`);
            }
            breakStaleLock(path, text);
        }
        throw new Error(`${path}: the lock kept changing hands; try again`);
    } finally {
        rmSync(temp, { force: true });
    }
}

/** Moves a stale lock aside; if what moved is not the lock judged stale (another process re-took it), puts it back. */
export function breakStaleLock(path: string, staleText: string): void {
    const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
        renameSync(path, aside);
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return; // another process broke it first
        throw error;
    }
    if (readText(aside) === staleText) {
        rmSync(aside, { force: true });
        return;
    }
    // A live lock taken after our read: restore it. link() fails only if yet another process locked meanwhile.
    try {
        linkSync(aside, path);
    } finally {
        rmSync(aside, { force: true });
    }
}

/** The holder named in `runDirectory`'s lock, if any (for messages and tests). */
export function readRunLock(runDirectory: string): RunLockHolder | undefined {
    return parseHolder(readText(join(runDirectory, LOCK_FILE_NAME)));
}
