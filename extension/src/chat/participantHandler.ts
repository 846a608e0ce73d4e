// What the @lora chat participant does with one request, without importing `vscode`: VS Code's chat objects are
// described by the few members used here, so the handler runs unchanged in plain node against the real sidecar
// (test/integration/chat-participant.test.ts). code-server has no chat UI to drive it through.
import type { ChatTurn } from "../../../sidecar/src/protocol/sidecar";
import { DEFAULT_CHAT_SETTINGS, type RunChoice } from "../../../sidecar/src/protocol/chatWebview";
import { type ChatClient, describeChatError } from "./chatClient";

/** The model + adapter the participant answers with: the newest finished run, or the base model setting. */
export type ParticipantTarget = () => Promise<Pick<RunChoice, "model" | "adapter"> | undefined>;

/** vscode.ChatRequestTurn, as far as it is read here. */
export interface RequestTurnLike {
    readonly participant: string;
    readonly prompt: string;
}

/** vscode.ChatResponseTurn: markdown parts carry `value.value`; a failed turn has `result.errorDetails`. */
export interface ResponseTurnLike {
    readonly participant: string;
    readonly response: ReadonlyArray<unknown>;
    readonly result: { readonly errorDetails?: unknown };
}

export interface ParticipantRequestLike {
    readonly prompt: string;
}

export interface ParticipantContextLike {
    readonly history: ReadonlyArray<RequestTurnLike | ResponseTurnLike>;
}

export interface ParticipantStreamLike {
    markdown(text: string): void;
}

export interface CancellationLike {
    readonly isCancellationRequested: boolean;
    onCancellationRequested(listener: () => void): { dispose(): void };
}

/** vscode.ChatResult: an error shows as the turn's error and keeps the turn out of later history. */
export interface ParticipantResult {
    errorDetails?: { message: string };
    metadata?: { stopped: boolean };
}

export type ParticipantHandler = (
    request: ParticipantRequestLike,
    context: ParticipantContextLike,
    stream: ParticipantStreamLike,
    token: CancellationLike
) => Promise<ParticipantResult>;

export const NO_MODEL_MESSAGE = "No model to ask: finish a training run, or set `loraStudio.baseModel`.";

/**
 * The earlier exchanges with this participant as chat turns, oldest first. Other participants' turns and failed
 * or empty answers are left out: the model should only see what it said itself.
 */
export function participantHistory(participantId: string, history: ParticipantContextLike["history"]): ChatTurn[] {
    const turns: ChatTurn[] = [];
    let pendingUser: string | undefined;
    for (const turn of history) {
        if (turn.participant !== participantId) {
            pendingUser = undefined;
            continue;
        }
        if ("prompt" in turn) {
            pendingUser = turn.prompt;
            continue;
        }
        const assistant = turn.response.map(markdownText).join("");
        if (pendingUser !== undefined && turn.result.errorDetails === undefined && assistant.trim() !== "") {
            turns.push({ user: pendingUser, assistant });
        }
        pendingUser = undefined;
    }
    return turns;
}

/** The text of a vscode.ChatResponseMarkdownPart (`{ value: MarkdownString }`); other parts contribute nothing. */
function markdownText(part: unknown): string {
    const value = (part as { value?: unknown } | null)?.value;
    if (typeof value === "string") return value;
    const inner = (value as { value?: unknown } | null | undefined)?.value;
    return typeof inner === "string" ? inner : "";
}

export function createParticipantHandler(
    participantId: string,
    client: ChatClient,
    target: ParticipantTarget,
    threads: () => number
): ParticipantHandler {
    let requests = 1;
    return async (request, context, stream, token) => {
        const choice = await target();
        if (!choice?.model) {
            stream.markdown(NO_MODEL_MESSAGE);
            return {};
        }
        if (token.isCancellationRequested) return { metadata: { stopped: true } };
        const requestId = `participant:${requests++}`;
        const cancel = token.onCancellationRequested(() => void client.stop(requestId));
        try {
            const result = await client.answer({
                config: { model: choice.model, threads: threads(), ...(choice.adapter ? { adapter: choice.adapter } : {}) },
                requestId,
                message: request.prompt,
                history: participantHistory(participantId, context.history),
                // The panel's defaults (greedy), so @lora and the panel give the same answer to the same question.
                temperature: DEFAULT_CHAT_SETTINGS.temperature,
                topP: DEFAULT_CHAT_SETTINGS.topP,
                maxTokens: DEFAULT_CHAT_SETTINGS.maxTokens,
                onText: (text) => stream.markdown(text)
            });
            for (const warning of result.warnings) stream.markdown(`\n\n> **Note:** ${warning}`);
            return { metadata: { stopped: result.stopped } };
        } catch (error) {
            return { errorDetails: { message: `LoRA Studio: ${describeChatError(error)}` } };
        } finally {
            cancel.dispose();
        }
    };
}
