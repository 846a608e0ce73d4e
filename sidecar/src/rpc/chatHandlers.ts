// The chat/… requests of protocol/sidecar.ts over ChatService: parameter checks that name the field,
// the workspace-trust gate on anything that loads a model, chat/token notifications while an answer
// streams, and typed errors (ChatLoadFailed names the model and adapter files).
import type { MessageConnection } from "vscode-jsonrpc";
import {
    ChatCloseRequest,
    ChatOpenRequest,
    type ChatOpenResult,
    ChatResetRequest,
    ChatSendRequest,
    type ChatSendResult,
    ChatStopRequest,
    ChatTokenNotification,
    type ChatTurn,
    SidecarErrorCode
} from "../protocol/sidecar";
import { ChatLoadError } from "../chat/session";
import { ChatRequestError, ChatService, ChatSessionNotFoundError } from "../chat/service";
import { sidecarError } from "./errors";

export interface ChatHandlerOptions {
    /** The server's session check (initialize first, not shutting down). */
    requireSession: () => void;
    /** The server's trust and engine gate: model loading is refused in an untrusted workspace. */
    requireEngine: () => void;
}

function invalid(field: string, detail: string): never {
    throw sidecarError(SidecarErrorCode.InvalidParams, `${field} ${detail}`, "Fix the request's parameters.");
}

function requiredString(params: Record<string, unknown>, field: string): string {
    const value = params[field];
    if (typeof value !== "string" || value === "") invalid(field, "must be a non-empty string");
    return value as string;
}

function optionalString(params: Record<string, unknown>, field: string): string | undefined {
    const value = params[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") invalid(field, "must be a string");
    return value as string;
}

function optionalNumber(params: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
    const value = params[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) invalid(field, `must be a number from ${min} to ${max}`);
    return value as number;
}

function optionalHistory(params: Record<string, unknown>): ChatTurn[] | undefined {
    const value = params.history;
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) invalid("history", "must be an array of {user, assistant}");
    return (value as unknown[]).map((turn, i) => {
        const t = turn as Partial<ChatTurn> | null;
        if (typeof t?.user !== "string" || typeof t.assistant !== "string") invalid(`history[${i}]`, "must be {user: string, assistant: string}");
        return { user: t!.user!, assistant: t!.assistant! };
    });
}

function asObject(params: unknown): Record<string, unknown> {
    if (typeof params !== "object" || params === null) invalid("params", "must be an object");
    return params as Record<string, unknown>;
}

function toResponseError(error: unknown): never {
    if (error instanceof ChatLoadError) {
        throw sidecarError(SidecarErrorCode.ChatLoadFailed, error.message, "Choose a base model GGUF and an adapter.gguf trained on it (the run's config.json names its base model).");
    }
    if (error instanceof ChatSessionNotFoundError) throw sidecarError(SidecarErrorCode.ChatSessionNotFound, error.message, "Open a new session with chat/open.");
    if (error instanceof ChatRequestError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Use a new requestId per request.");
    throw error;
}

/** Registers the chat requests; the returned service is closed on shutdown. */
export function registerChatHandlers(connection: MessageConnection, options: ChatHandlerOptions): ChatService {
    const chat = new ChatService();

    connection.onRequest(ChatOpenRequest.type, async (raw): Promise<ChatOpenResult> => {
        options.requireEngine();
        const params = asObject(raw);
        const adapter = optionalString(params, "adapter");
        const system = optionalString(params, "system");
        const contextSize = optionalNumber(params, "contextSize", 64, 1 << 20);
        const threads = optionalNumber(params, "threads", 0, 1024);
        const requestId = optionalString(params, "requestId");
        try {
            const { sessionId, chat: session } = await chat.open({
                model: requiredString(params, "model"),
                ...(adapter === undefined || adapter === "" ? {} : { adapter }),
                ...(system === undefined ? {} : { system }),
                ...(contextSize === undefined ? {} : { contextSize }),
                ...(threads === undefined ? {} : { threads }),
                ...(requestId === undefined ? {} : { requestId })
            });
            return { sessionId, templateName: session.templateName, modelName: session.modelName, sharedModel: session.sharesModel };
        } catch (error) {
            toResponseError(error);
        }
    });

    connection.onRequest(ChatSendRequest.type, async (raw): Promise<ChatSendResult> => {
        options.requireEngine();
        const params = asObject(raw);
        const sessionId = requiredString(params, "sessionId");
        const requestId = requiredString(params, "requestId");
        const message = requiredString(params, "message");
        const temperature = optionalNumber(params, "temperature", 0, 10);
        const topP = optionalNumber(params, "topP", 0, 1);
        const maxTokens = optionalNumber(params, "maxTokens", 1, 1 << 20);
        const history = optionalHistory(params);
        try {
            const { answer, stopped } = await chat.send({
                sessionId,
                requestId,
                message,
                ...(temperature === undefined ? {} : { temperature }),
                ...(topP === undefined ? {} : { topP }),
                ...(maxTokens === undefined ? {} : { maxTokens }),
                ...(history === undefined ? {} : { history }),
                onText: (text) => {
                    void connection.sendNotification(ChatTokenNotification.type, { sessionId, requestId, text }).catch(() => {
                        // The pipe is gone; main.ts exits on close.
                    });
                }
            });
            return { requestId, answer, stopped };
        } catch (error) {
            toResponseError(error);
        }
    });

    connection.onRequest(ChatStopRequest.type, (raw) => {
        options.requireSession();
        return { stopped: chat.stop(requiredString(asObject(raw), "requestId")) };
    });
    connection.onRequest(ChatResetRequest.type, (raw) => {
        options.requireSession();
        try {
            chat.reset(requiredString(asObject(raw), "sessionId"));
        } catch (error) {
            toResponseError(error);
        }
    });
    connection.onRequest(ChatCloseRequest.type, async (raw) => {
        options.requireSession();
        try {
            await chat.close(requiredString(asObject(raw), "sessionId"));
        } catch (error) {
            toResponseError(error);
        }
    });
    return chat;
}
