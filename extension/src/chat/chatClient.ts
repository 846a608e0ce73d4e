// The extension's side of the sidecar's chat/… requests, shared by the chat panel and the @lora participant:
// one session per (model, adapter, system prompt), reopened when the sidecar restarted; answers streamed
// through a callback; stop by request id. No `vscode` import, so it stays testable in plain node.
import { ResponseError } from "vscode-jsonrpc";
import {
    ChatCloseRequest,
    ChatOpenRequest,
    type ChatOpenParams,
    ChatSendRequest,
    type ChatSendResult,
    ChatStopRequest,
    ChatTokenNotification,
    type ChatTurn,
    SidecarErrorCode
} from "../../../sidecar/src/protocol/sidecar";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { SidecarError } from "../sidecar/errors";

/** Loading a model GGUF: large files on slow disks take minutes. */
export const CHAT_OPEN_TIMEOUT_MS = 5 * 60_000;
/** One answer; every answer can be stopped long before this (the timeout only catches a hung sidecar). */
export const CHAT_SEND_TIMEOUT_MS = 10 * 60_000;
/** chat/stop answers at once; a sidecar that cannot is hung and gets killed by the supervisor. */
export const CHAT_STOP_TIMEOUT_MS = 10_000;
/** Sessions kept open (each holds a context); the least recently used is closed beyond this. */
const MAX_SESSIONS = 4;

/** What makes a session (threads 0 or absent = the sidecar's measured default); one session is kept per distinct config. */
export type SessionConfig = Pick<ChatOpenParams, "model" | "adapter" | "system" | "threads">;

export interface AnswerRequest {
    config: SessionConfig;
    requestId: string;
    message: string;
    history: ChatTurn[];
    temperature?: number;
    topP?: number;
    maxTokens?: number;
    onText: (text: string) => void;
}

interface OpenSession {
    sessionId: string;
    /** The sidecar process it lives in: a restarted sidecar has none of the old sessions. */
    pid: number | undefined;
    /** chat/open's warnings (an adapter recorded for another base), handed to the first answer and then cleared. */
    warnings: string[];
}

/** An answer plus what the user should see beside it: chat/open's warnings (once) and chat/send's notice. */
export interface ChatAnswer extends ChatSendResult {
    warnings: string[];
}

export class ChatClient {
    private readonly sessions = new Map<string, Promise<OpenSession>>();

    constructor(private readonly supervisor: SidecarSupervisor) {}

    /** Answers `message` after `history`, streaming it to `onText`; resolves when it is complete or stopped. */
    async answer(request: AnswerRequest): Promise<ChatAnswer> {
        const subscription = this.supervisor.onNotification(ChatTokenNotification.type, (token) => {
            if (token.requestId === request.requestId) request.onText(token.text);
        });
        try {
            for (let attempt = 1; ; attempt++) {
                const session = await this.session(request.config, request.requestId);
                try {
                    const result = await this.supervisor.sendRequest(
                        ChatSendRequest.type,
                        {
                            sessionId: session.sessionId,
                            requestId: request.requestId,
                            message: request.message,
                            history: request.history,
                            ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
                            ...(request.topP === undefined ? {} : { topP: request.topP }),
                            ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens })
                        },
                        { timeoutMs: CHAT_SEND_TIMEOUT_MS }
                    );
                    const warnings = [...session.warnings.splice(0), ...(result.notice ? [result.notice] : [])];
                    return { ...result, warnings };
                } catch (error) {
                    // The session went away with a restarted sidecar: open it again, once.
                    if (attempt === 1 && error instanceof ResponseError && error.code === SidecarErrorCode.ChatSessionNotFound) {
                        this.sessions.delete(keyOf(request.config));
                        continue;
                    }
                    throw error;
                }
            }
        } finally {
            subscription.dispose();
        }
    }

    /** Stops an answer (or the model load it waits for). Never throws: a dead sidecar has nothing to stop. */
    async stop(requestId: string): Promise<void> {
        if (this.supervisor.state !== "running") return;
        await Promise.all(
            [requestId, openRequestIdFor(requestId)].map((id) =>
                this.supervisor.sendRequest(ChatStopRequest.type, { requestId: id }, { timeoutMs: CHAT_STOP_TIMEOUT_MS }).catch(() => undefined)
            )
        );
    }

    /** Closes every session (best effort). */
    async dispose(): Promise<void> {
        const open = [...this.sessions.values()];
        this.sessions.clear();
        await Promise.all(open.map((s) => s.then((session) => this.close(session)).catch(() => undefined)));
    }

    private session(config: SessionConfig, requestId: string): Promise<OpenSession> {
        const key = keyOf(config);
        const existing = this.sessions.get(key);
        if (existing) {
            // Most recently used last, for the eviction below.
            this.sessions.delete(key);
            this.sessions.set(key, existing);
            return existing.then((session) => {
                if (session.pid === this.supervisor.pid) return session;
                if (this.sessions.get(key) === existing) this.sessions.delete(key);
                return this.session(config, requestId);
            });
        }
        const opening = this.open(config, requestId);
        this.sessions.set(key, opening);
        opening.catch(() => {
            if (this.sessions.get(key) === opening) this.sessions.delete(key);
        });
        while (this.sessions.size > MAX_SESSIONS) {
            const [oldestKey, oldest] = this.sessions.entries().next().value as [string, Promise<OpenSession>];
            this.sessions.delete(oldestKey);
            void oldest.then((s) => this.close(s)).catch(() => undefined);
        }
        return opening;
    }

    private async open(config: SessionConfig, requestId: string): Promise<OpenSession> {
        const result = await this.supervisor.sendRequest(
            ChatOpenRequest.type,
            {
                model: config.model,
                requestId: openRequestIdFor(requestId),
                ...(config.adapter ? { adapter: config.adapter } : {}),
                ...(config.system ? { system: config.system } : {}),
                ...(config.threads ? { threads: config.threads } : {})
            },
            { timeoutMs: CHAT_OPEN_TIMEOUT_MS }
        );
        return { sessionId: result.sessionId, pid: this.supervisor.pid, warnings: [...(result.warnings ?? [])] };
    }

    private async close(session: OpenSession): Promise<void> {
        if (session.pid !== this.supervisor.pid || this.supervisor.state !== "running") return;
        await this.supervisor.sendRequest(ChatCloseRequest.type, { sessionId: session.sessionId }).catch(() => undefined);
    }
}

function keyOf(config: SessionConfig): string {
    return JSON.stringify([config.model, config.adapter ?? "", config.system ?? "", config.threads ?? 0]);
}

function openRequestIdFor(requestId: string): string {
    return `${requestId}/open`;
}

/** True when the failure is the sidecar process itself (dead, hung, failed to start): the UI offers Restart. */
export function isSidecarDown(error: unknown): boolean {
    return error instanceof SidecarError;
}

/** A user-facing message: the extension's one error helper (the sidecar's message plus its hint). */
export { describeError as describeChatError } from "../errorMessage";
