// Shared by the sidecar and supervisor tests: where the built sidecar is, a recording log, and
// waiting on supervisor events (never on the clock).

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Event } from "vscode-jsonrpc";
import { type SidecarLog, SidecarSupervisor, type SidecarSupervisorOptions } from "../../extension/src/sidecar/supervisor";

/** Tests are bundled to out/test/<tier>/x.test.mjs, three levels below the repository root. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const sidecarScript = join(repoRoot, "dist", "sidecar.mjs");
/** The same sidecar plus the test-only debug/… requests (hookedSidecar.ts); production's has none. */
export const hookedSidecarScript = join(repoRoot, "out", "test", "integration", "hookedSidecar.mjs");

export class RecordingLog implements SidecarLog {
    readonly lines: string[] = [];
    trace = (message: string): void => void this.lines.push(`trace ${message}`);
    debug = (message: string): void => void this.lines.push(`debug ${message}`);
    info = (message: string): void => void this.lines.push(`info ${message}`);
    warn = (message: string): void => void this.lines.push(`warn ${message}`);
    error = (message: string): void => void this.lines.push(`error ${message}`);
}

export function tempWorkspace(prefix = "lora-studio-sidecar-"): string {
    return mkdtempSync(join(tmpdir(), prefix));
}

/** A supervisor over the real sidecar with the test-only requests (hookedSidecar.ts) and a 1 ms restart backoff. */
export function testSupervisor(overrides: Partial<SidecarSupervisorOptions> = {}): { supervisor: SidecarSupervisor; log: RecordingLog } {
    const log = new RecordingLog();
    const workspaceRoot = tempWorkspace();
    const supervisor = new SidecarSupervisor({
        command: process.execPath,
        scriptPath: hookedSidecarScript,
        clientName: "sidecar integration test",
        initializeParams: () => ({ workspaceRoot, workspaceTrusted: true }),
        log,
        ...overrides,
        timing: { restartBaseDelayMs: 1, ...overrides.timing }
    });
    return { supervisor, log };
}

/** Resolves with the first event that satisfies `predicate`. Subscribe before causing the event. */
export function nextEvent<T>(event: Event<T>, predicate: (value: T) => boolean = () => true): Promise<T> {
    return new Promise((resolve) => {
        const subscription = event((value) => {
            if (!predicate(value)) return;
            subscription.dispose();
            resolve(value);
        });
    });
}
