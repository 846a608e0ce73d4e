// Requests that exist only for tests, registered when TEST_HOOKS_ENV_VAR is "1": they simulate a
// hung child so the supervisor's timeout and kill paths run against a real process.

import type { MessageConnection } from "vscode-jsonrpc";
import {
    DebugBlockRequest, DebugConsoleLogRequest, DebugInfoRequest, DebugOomRestartHeldNotification, DebugReleaseOomRestartRequest, SidecarErrorCode
} from "../protocol/sidecar";
import { sidecarError } from "./errors";

export function registerTestHooks(connection: MessageConnection, isInitialized: () => boolean): void {
    connection.onRequest(DebugBlockRequest.type, (params) => {
        if (!(typeof params?.milliseconds === "number" && params.milliseconds >= 0)) {
            throw sidecarError(SidecarErrorCode.InvalidParams, `debug/block: "milliseconds" must be a non-negative number`, "Fix the test.");
        }
        // Atomics.wait blocks the whole event loop, as a stuck native call would.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, params.milliseconds);
    });
    connection.onRequest(DebugConsoleLogRequest.type, ({ text }) => {
        console.log(text);
        process.stdout.write(`${text}\n`);
    });
    connection.onRequest(DebugInfoRequest.type, () => ({ pid: process.pid, initialized: isInitialized() }));
}

/**
 * The HOLD_OOM_RESTART_ENV_VAR hook: an out-of-memory restart announces itself with debug/oomRestartHeld and waits
 * until debug/releaseOomRestart names its run, so a test can cancel inside the restart window deterministically.
 */
export function holdOomRestarts(connection: MessageConnection): (runId: string) => Promise<void> {
    const held = new Map<string, () => void>();
    connection.onRequest(DebugReleaseOomRestartRequest.type, ({ runId }) => {
        const release = held.get(runId);
        held.delete(runId);
        release?.();
        return release !== undefined;
    });
    return (runId) =>
        new Promise<void>((release) => {
            held.set(runId, release);
            void connection.sendNotification(DebugOomRestartHeldNotification.type, { runId }).catch(() => undefined);
        });
}
