// Refusals of the run service (runService.ts), as plain errors with a kind: rpc/trainingHandlers.ts turns each kind
// into its typed JSON-RPC error, as rpc/chatHandlers.ts does for the chat service's errors.
import type { RunLockHolder } from "./runLock";

export type RunRefusalKind =
    /** Parameters or files the run cannot use; the message names them. */
    | "invalid"
    /** The run needs the workspace's run store and no folder is open. */
    | "no-workspace"
    /** The pre-flight memory check found no micro-batch that fits. */
    | "insufficient-memory"
    /** Another run trains in this process (one at a time). */
    | "run-already-active"
    /** The run id names no run this service trains (cancel). */
    | "run-not-found"
    /** Another process trains the run folder. */
    | "run-locked"
    /** Resume of a run that has finished. */
    | "run-finished";

export class RunRefusedError extends Error {
    override name = "RunRefusedError";

    constructor(
        readonly kind: RunRefusalKind,
        message: string,
        /** What the user can do about it. */
        readonly hint: string,
        readonly details: { runId?: string; holder?: RunLockHolder } = {}
    ) {
        super(message);
    }
}
