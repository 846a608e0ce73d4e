// One way to say what went wrong in a notification: a sidecar refusal's message followed by its hint (what to do),
// any other error's message. Used by every command of the extension.
import { ResponseError } from "vscode-jsonrpc";

export function describeError(error: unknown): string {
    if (error instanceof ResponseError) {
        const hint = (error.data as { hint?: unknown } | undefined)?.hint;
        return typeof hint === "string" && hint !== "" ? `${error.message} ${hint}` : error.message;
    }
    // A RunRequestError (training/runController.ts) has already put its message and hint together.
    if (error instanceof Error && "userMessage" in error && typeof error.userMessage === "string") return error.userMessage;
    return error instanceof Error ? error.message : String(error);
}
