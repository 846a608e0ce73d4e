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
import { availableParallelism } from "node:os";
import { ChatLoadError, PromptTooLongError } from "../chat/session";
import { CHAT_OPEN_PARAMS, CHAT_SEND_PARAMS } from "../params/commands";
import { checkParams, ParamError, type ParamSchema, type ParamValues } from "../params/schema";
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

function requiredString(raw: unknown, field: string): string {
    if (typeof raw !== "object" || raw === null) invalid("params", "must be an object");
    const value = (raw as Record<string, unknown>)[field];
    if (typeof value !== "string" || value === "") invalid(field, "must be a non-empty string");
    return value as string;
}

/** The request's params checked against the schema the CLI uses too (params/commands.ts). */
function checked<S extends ParamSchema>(schema: S, raw: unknown, method: string, limits: Readonly<Record<string, number>> = {}, passThrough: readonly string[] = []): ParamValues<S> {
    try {
        return checkParams(schema, raw, { face: { face: "rpc", method }, limits: { cpus: availableParallelism(), ...limits }, passThrough });
    } catch (error) {
        if (error instanceof ParamError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Fix the request's parameters.");
        throw error;
    }
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

function toResponseError(error: unknown): never {
    if (error instanceof ChatLoadError) {
        throw sidecarError(SidecarErrorCode.ChatLoadFailed, error.message, "Choose a base model GGUF and an adapter.gguf trained on it (the run's config.json names its base model).");
    }
    if (error instanceof ChatSessionNotFoundError) throw sidecarError(SidecarErrorCode.ChatSessionNotFound, error.message, "Open a new session with chat/open.");
    if (error instanceof ChatRequestError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Use a new requestId per request.");
    if (error instanceof PromptTooLongError) throw sidecarError(SidecarErrorCode.InvalidParams, `message: ${error.message}`, "Shorten the question, lower maxTokens, or open the chat with a larger contextSize.");
    throw error;
}

/** Registers the chat requests; the returned service is closed on shutdown. */
export function registerChatHandlers(connection: MessageConnection, options: ChatHandlerOptions): ChatService {
    const chat = new ChatService();

    connection.onRequest(ChatOpenRequest.type, async (raw): Promise<ChatOpenResult> => {
        options.requireEngine();
        const params = checked(CHAT_OPEN_PARAMS, raw, ChatOpenRequest.method);
        const { adapter, system, contextSize, threads, requestId } = params;
        try {
            const { sessionId, chat: session } = await chat.open({
                model: params.model,
                ...(adapter === undefined ? {} : { adapter }),
                ...(system === undefined ? {} : { system }),
                ...(contextSize === undefined ? {} : { contextSize }),
                ...(threads === undefined || threads === 0 ? {} : { threads }),
                ...(requestId === undefined ? {} : { requestId })
            });
            return {
                sessionId, templateName: session.templateName, modelName: session.modelName, sharedModel: session.sharesModel,
                ...(session.warnings.length > 0 ? { warnings: [...session.warnings] } : {})
            };
        } catch (error) {
            toResponseError(error);
        }
    });

    connection.onRequest(ChatSendRequest.type, async (raw): Promise<ChatSendResult> => {
        options.requireEngine();
        const sessionId = checked(CHAT_SEND_PARAMS, raw, ChatSendRequest.method, {}, ["history"]).sessionId;
        // maxTokens is bounded by this session's context, so the check needs the session first.
        let contextSize: number;
        try {
            contextSize = chat.contextSizeOf(sessionId);
        } catch (error) {
            toResponseError(error);
        }
        const { requestId, message, temperature, topP, maxTokens } = checked(CHAT_SEND_PARAMS, raw, ChatSendRequest.method, { contextSize }, ["history"]);
        const history = optionalHistory(raw as unknown as Record<string, unknown>);
        try {
            const { answer, stopped, notice } = await chat.send({
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
            return { requestId, answer, stopped, ...(notice ? { notice } : {}) };
        } catch (error) {
            toResponseError(error);
        }
    });

    connection.onRequest(ChatStopRequest.type, (raw) => {
        options.requireSession();
        return { stopped: chat.stop(requiredString(raw, "requestId")) };
    });
    connection.onRequest(ChatResetRequest.type, (raw) => {
        options.requireSession();
        try {
            chat.reset(requiredString(raw, "sessionId"));
        } catch (error) {
            toResponseError(error);
        }
    });
    connection.onRequest(ChatCloseRequest.type, async (raw) => {
        options.requireSession();
        try {
            await chat.close(requiredString(raw, "sessionId"));
        } catch (error) {
            toResponseError(error);
        }
    });
    return chat;
}
