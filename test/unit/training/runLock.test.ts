// The run folder's lock (sidecar/src/training/runLock.ts) between real processes: eight processes started together
// on a folder whose lock a dead process left behind, all breaking it at once; exactly one holds the folder, and every
// other one is refused naming it. Also: release removes only one's own lock, and a lock of another host is never
// judged stale from here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { acquireRunLock, breakStaleLock, isStale, LOCK_FILE_NAME, readRunLock, RunLockedError, type RunLockHolder } from "../../../sidecar/src/training/runLock";

const CHILD_ENV = "LORA_STUDIO_RUNLOCK_CHILD";
const HANG_GUARD = { timeout: 120_000 };

function child(): void {
    // Child mode: wait for the go file, try the lock once, say how it went, and hold a win until stdin closes.
    const dir = process.env[CHILD_ENV]!;
    const go = join(dir, "go");
    for (;;) {
        try {
            readFileSync(go);
            break;
        } catch {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
        }
    }
    try {
        acquireRunLock(dir, { kind: "terminal", client: `child ${process.pid}` });
        process.stdout.write(`won ${process.pid}\n`);
        process.stdin.resume();
        process.stdin.on("end", () => process.exit(0));
    } catch (error) {
        process.stdout.write(error instanceof RunLockedError ? `refused ${error.holder.pid}\n` : `error ${(error as Error).message}\n`);
        process.exit(0);
    }
}

// A child runs only its part: the tests below must not run again (and spawn again) inside it.
if (process.env[CHILD_ENV]) child();
else {
    function deadPid(): number {
        return spawnSync(process.execPath, ["-e", "0"]).pid!;
    }

    const staleLock = (pid: number): RunLockHolder => ({
        kind: "editor", client: "crashed", pid, parentPid: 1, host: hostname(), acquiredAt: "2026-12-01T00:00:00.000Z", nonce: "stale"
    });

    test("eight processes break the same stale lock at once: exactly one holds the folder, the others are refused naming it", HANG_GUARD, async () => {
        const dir = mkdtempSync(join(tmpdir(), "run-lock-race-"));
        try {
            const stale = staleLock(deadPid());
            writeFileSync(join(dir, LOCK_FILE_NAME), JSON.stringify(stale));
            assert.equal(isStale(stale), true);
            const script = fileURLToPath(import.meta.url);
            const children = Array.from({ length: 8 }, () => spawn(process.execPath, [script], { env: { ...process.env, [CHILD_ENV]: dir }, stdio: ["pipe", "pipe", "inherit"] }));
            const answers = children.map((child) => new Promise<string>((settle) => createInterface({ input: child.stdout! }).once("line", settle)));
            // Listened for now: the refused ones exit as soon as they have answered.
            const exited = children.map((child) => new Promise((settle) => child.on("exit", settle)));
            writeFileSync(join(dir, "go"), "");
            try {
                const lines = await Promise.all(answers);
                const winners = lines.filter((l) => l.startsWith("won "));
                assert.equal(winners.length, 1, lines.join("\n"));
                const winnerPid = Number(winners[0]!.slice(4));
                assert.deepEqual(lines.filter((l) => !l.startsWith("won ")), Array(7).fill(`refused ${winnerPid}`), lines.join("\n"));
                assert.equal(readRunLock(dir)?.pid, winnerPid);
            } finally {
                // Winners hold the lock until their stdin closes; close it whatever the verdict, or they outlive the test.
                for (const child of children) child.stdin!.end();
                await Promise.all(exited);
            }
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("breaking a stale lock that another process took meanwhile puts the live one back (the narrow race, made certain)", () => {
        const dir = mkdtempSync(join(tmpdir(), "run-lock-break-"));
        try {
            const path = join(dir, LOCK_FILE_NAME);
            const staleText = JSON.stringify(staleLock(deadPid()));
            // We judged `staleText` stale; before we moved it aside, another process broke it and took the folder.
            const live = JSON.stringify({ ...staleLock(process.pid), nonce: "live" });
            writeFileSync(path, live);
            breakStaleLock(path, staleText);
            assert.equal(readFileSync(path, "utf8"), live, "the live lock is back in place");
            writeFileSync(path, staleText);
            breakStaleLock(path, staleText);
            assert.equal(readRunLock(dir), undefined, "the stale one is gone");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("release removes only its own lock; another host's lock is never judged stale from here", () => {
        const dir = mkdtempSync(join(tmpdir(), "run-lock-"));
        try {
            const lock = acquireRunLock(dir, { kind: "editor", client: "test" });
            assert.throws(() => acquireRunLock(dir, { kind: "terminal", client: "test" }, () => true), RunLockedError, "the same process, still using it");
            const again = acquireRunLock(dir, { kind: "terminal", client: "test" }, () => false);
            assert.notEqual(again.holder.nonce, lock.holder.nonce, "a leftover of this process is taken over");
            lock.release();
            assert.equal(readRunLock(dir)?.nonce, again.holder.nonce, "the old lock's release left the new one alone");
            again.release();
            assert.equal(readRunLock(dir), undefined);
            assert.equal(isStale({ ...staleLock(deadPid()), host: "another-machine" }), false);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
}
