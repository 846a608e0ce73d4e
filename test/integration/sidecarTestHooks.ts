// Requests that exist only in the test build of the sidecar (hookedSidecar.ts → out/test/integration/hookedSidecar.mjs),
// declared here and nowhere in the production protocol: they simulate a hung child so the supervisor's timeout and kill
// paths run against a real process, report its pid, and write stray output that must land on stderr.
import { RequestType, RequestType0, type MessageConnection } from "vscode-jsonrpc";
import type { SidecarErrorData } from "../../sidecar/src/protocol/sidecar";

export interface DebugBlockParams {
    /** How long to block the sidecar's event loop, simulating a hung child. */
    milliseconds: number;
}

/** Sent by tests: blocks the sidecar's event loop synchronously (a hung child). */
export namespace DebugBlockRequest {
    export const method = "debug/block" as const;
    export const type = new RequestType<DebugBlockParams, void, SidecarErrorData>(method);
}

/** Sent by tests: the sidecar's pid and whether it has been initialized. */
export namespace DebugInfoRequest {
    export const method = "debug/info" as const;
    export const type = new RequestType0<{ pid: number; initialized: boolean }, SidecarErrorData>(method);
}

/** Sent by tests: writes `text` with console.log and process.stdout.write, which must land on stderr. */
export namespace DebugConsoleLogRequest {
    export const method = "debug/consoleLog" as const;
    export const type = new RequestType<{ text: string }, void, SidecarErrorData>(method);
}

export function registerTestHooks(connection: MessageConnection, isInitialized: () => boolean): void {
    connection.onRequest(DebugBlockRequest.type, (params) => {
        // Atomics.wait blocks the whole event loop, as a stuck native call would.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, params.milliseconds);
    });
    connection.onRequest(DebugConsoleLogRequest.type, ({ text }) => {
        console.log(text);
        process.stdout.write(`${text}\n`);
    });
    connection.onRequest(DebugInfoRequest.type, () => ({ pid: process.pid, initialized: isInitialized() }));
}
