// The sidecar's chat sessions, transport-free: open (sharing one model per file through a ModelPool),
// send with streaming and a stop handle per request, reset, close. rpc/chatHandlers.ts maps it to the
// chat/… requests; errors here are plain classes that the handlers turn into typed JSON-RPC errors.
import type { ChatOpenParams, ChatSendParams } from "../protocol/sidecar";
import { ModelPool } from "./modelPool";
import { ModelChat, type StreamedAnswer } from "./session";

export class ChatSessionNotFoundError extends Error {
    override name = "ChatSessionNotFoundError";
}

export class ChatRequestError extends Error {
    override name = "ChatRequestError";
}

/** A `chat/send` request plus where its streamed text goes. */
export interface SendOptions extends ChatSendParams {
    onText: (text: string) => void;
}

interface OpenSession {
    chat: ModelChat;
    /** Requests of this session, running or waiting, for close. */
    active: Set<string>;
    /** The session's last answer, for close to wait on. */
    last: Promise<unknown>;
}

export class ChatService {
    private readonly pool = new ModelPool();
    private readonly sessions = new Map<string, OpenSession>();
    /** Running chat/open and chat/send requests by requestId, for chat/stop. */
    private readonly running = new Map<string, AbortController>();
    /**
     * Answers run one at a time across all sessions. Side by side sends two at once, and two contexts that each
     * use every core oversubscribe the CPU (ggml's threads spin at barriers): one after the other is faster
     * than both together. A waiting answer can be stopped like a running one.
     */
    private generation: Promise<unknown> = Promise.resolve();
    private nextId = 1;

    async open(options: ChatOpenParams): Promise<{ sessionId: string; chat: ModelChat }> {
        const controller = this.track(options.requestId);
        try {
            const chat = await ModelChat.open({
                modelPath: options.model,
                pool: this.pool,
                signal: controller.signal,
                ...(options.adapter === undefined ? {} : { adapterPath: options.adapter }),
                ...(options.system === undefined || options.system === "" ? {} : { system: options.system }),
                ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
                ...(options.threads === undefined ? {} : { threads: options.threads })
            });
            const sessionId = `chat-${this.nextId++}`;
            this.sessions.set(sessionId, { chat, active: new Set(), last: Promise.resolve() });
            return { sessionId, chat };
        } finally {
            if (options.requestId !== undefined) this.running.delete(options.requestId);
        }
    }

    async send(options: SendOptions): Promise<StreamedAnswer> {
        const session = this.session(options.sessionId);
        if (this.running.has(options.requestId)) throw new ChatRequestError(`requestId ${JSON.stringify(options.requestId)} is already running; use a new id per request`);
        const controller = this.track(options.requestId);
        session.active.add(options.requestId);
        const answer = this.generation.then(async (): Promise<StreamedAnswer> => {
            if (controller.signal.aborted) return { answer: "", stopped: true }; // stopped while it waited
            if (options.history) session.chat.setHistory(options.history);
            return session.chat.stream(options.message, {
                signal: controller.signal,
                onText: options.onText,
                ...(options.maxTokens === undefined ? { maxTokens: 256 } : { maxTokens: options.maxTokens }),
                ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
                ...(options.topP === undefined ? {} : { topP: options.topP })
            });
        });
        this.generation = answer.catch(() => undefined);
        session.last = this.generation;
        try {
            return await answer;
        } finally {
            session.active.delete(options.requestId);
            this.running.delete(options.requestId);
        }
    }

    /** Stops a running open or send; false when nothing runs under that id. */
    stop(requestId: string): boolean {
        const controller = this.running.get(requestId);
        if (!controller) return false;
        controller.abort(new Error("stopped by chat/stop"));
        return true;
    }

    /** The context size of an open session, which bounds chat/send's maxTokens. */
    contextSizeOf(sessionId: string): number {
        return this.session(sessionId).chat.contextSize;
    }

    reset(sessionId: string): void {
        this.session(sessionId).chat.reset();
    }

    async close(sessionId: string): Promise<void> {
        const session = this.session(sessionId);
        this.sessions.delete(sessionId);
        for (const requestId of session.active) this.stop(requestId);
        await session.last;
        await session.chat.dispose();
    }

    async closeAll(): Promise<void> {
        await Promise.all([...this.sessions.keys()].map((id) => this.close(id)));
    }

    private session(sessionId: string): OpenSession {
        const session = this.sessions.get(sessionId);
        if (!session) throw new ChatSessionNotFoundError(`no chat session ${JSON.stringify(sessionId)}: it was closed, or the sidecar restarted since chat/open`);
        return session;
    }

    private track(requestId: string | undefined): AbortController {
        const controller = new AbortController();
        if (requestId !== undefined) this.running.set(requestId, controller);
        return controller;
    }
}
