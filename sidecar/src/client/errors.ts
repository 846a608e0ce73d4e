// Typed failures of the sidecar supervisor. Each message says what happened and what to do next,
// because the vscode adapter shows it to the user as is.

export class SidecarError extends Error {
    constructor(message: string) {
        super(message);
        this.name = new.target.name;
    }
}

/** A request got no answer within its timeout. The supervisor kills the (hung) sidecar and restarts it. */
export class RpcTimeoutError extends SidecarError {
    constructor(readonly method: string, readonly timeoutMs: number) {
        super(`The LoRA Studio sidecar did not answer "${method}" within ${timeoutMs} ms; it was stopped as hung and will be restarted.`);
    }
}

/** The sidecar exited while a request was waiting for its answer. */
export class SidecarExitedError extends SidecarError {
    constructor(readonly method: string, readonly exitDescription: string) {
        super(`The LoRA Studio sidecar exited (${exitDescription}) before answering "${method}". See the "LoRA Studio Sidecar" output for its last messages.`);
    }
}

/** The sidecar could not be started at all (missing bundle, spawn failure). */
export class SidecarStartError extends SidecarError {}

/** The sidecar kept dying: automatic restarts stopped after MAX_RESTART_ATTEMPTS. */
export class SidecarCrashLoopError extends SidecarError {
    constructor(readonly attempts: number, readonly lastExit: string, readonly stderrTail: string[]) {
        super(
            `The LoRA Studio sidecar stopped unexpectedly ${attempts + 1} times in a row (last: ${lastExit}) and will not be restarted automatically. ` +
                `Check the "LoRA Studio Sidecar" output for the cause, then run "LoRA Studio: Restart Sidecar".` +
                (stderrTail.length > 0 ? ` Last output: ${stderrTail.at(-1)}` : "")
        );
    }
}

/** The sidecar answered initialize with another protocol version: the extension and dist/ are out of step. */
export class SidecarProtocolMismatchError extends SidecarError {
    constructor(readonly expected: number, readonly actual: unknown) {
        super(
            `The LoRA Studio sidecar speaks protocol ${JSON.stringify(actual)} but the extension needs ${expected}. ` +
                `Rebuild (npm run build) or reinstall the extension so both come from the same version.`
        );
    }
}

/** A request was made while the supervisor is stopping or has been disposed. */
export class SidecarStoppedError extends SidecarError {
    constructor(readonly method: string) {
        super(`The LoRA Studio sidecar is stopped, so "${method}" was not sent. Try again; it starts on demand.`);
    }
}
