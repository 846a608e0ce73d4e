// A chat with a base model and, optionally, a LoRA adapter, through stock node-llama-cpp: the model's own
// template (createChatWrapperForModel) and a history seeded like the training data (chatHistoryFor), so the
// prompt is token for token what training saw. Used by `lora-studio chat`, the sidecar's chat/… requests
// (through a ModelPool, so two sessions on one model file share its weights) and the demo.
import { existsSync } from "node:fs";
import { basename } from "node:path";
import type { LlamaChatSession, LlamaContext, LlamaModel } from "node-llama-cpp";
import { chatHistoryFor, createChatWrapperForModel, getCpuLlama } from "../pipeline";
import { loadNodeLlamaCpp } from "../pipeline/nodeLlamaCpp";
import type { ChatMessage } from "../pipeline/types";
import { AdapterMismatchError, checkAdapterFitsModel } from "./adapterCheck";
import type { ModelLease, ModelPool } from "./modelPool";

export interface ChatOptions {
    modelPath: string;
    adapterPath?: string;
    /** The system prompt; omit when the training data had none. */
    system?: string;
    contextSize?: number;
    /** CPU threads for generation; default node-llama-cpp's choice. Small models answer faster on one (no thread barriers). */
    threads?: number;
    /** Share the model with other sessions on the same file; without it the session loads (and frees) its own. */
    pool?: ModelPool;
    /** Aborts loading. */
    signal?: AbortSignal;
}

export interface AskOptions {
    maxTokens?: number;
    /** 0 = greedy (the default), so answers are reproducible. */
    temperature?: number;
    topP?: number;
}

export interface StreamOptions extends AskOptions {
    /** Each piece of the answer as it is generated; the pieces concatenate to the answer. */
    onText?: (text: string) => void;
    /** Stops generation; the answer so far is returned with `stopped: true`. */
    signal?: AbortSignal;
}

export interface StreamedAnswer {
    /** Untrimmed, exactly the concatenation of the onText pieces. */
    answer: string;
    stopped: boolean;
}

/** An earlier exchange, to replay a conversation. */
export interface ChatExchange {
    user: string;
    assistant: string;
}

export class ChatLoadError extends Error {
    override name = "ChatLoadError";
}

export class ModelChat {
    private constructor(
        private readonly lease: ModelLease,
        private readonly context: LlamaContext,
        private readonly session: LlamaChatSession,
        private readonly initialHistory: ChatMessage[]
    ) {}

    static async open(options: ChatOptions): Promise<ModelChat> {
        const { modelPath, adapterPath } = options;
        if (!existsSync(modelPath)) throw new ChatLoadError(`model ${modelPath} does not exist`);
        if (adapterPath !== undefined) {
            if (!existsSync(adapterPath)) throw new ChatLoadError(`adapter ${adapterPath} does not exist (base model ${modelPath})`);
            try {
                checkAdapterFitsModel(modelPath, adapterPath);
            } catch (error) {
                if (error instanceof AdapterMismatchError) throw new ChatLoadError(error.message);
                throw error;
            }
        }
        let lease: ModelLease;
        try {
            lease = options.pool ? await options.pool.acquire(modelPath, options.signal) : await loadPrivately(modelPath, options.signal);
        } catch (error) {
            throw new ChatLoadError(`cannot load model ${modelPath}: ${(error as Error).message}`);
        }
        let context: LlamaContext;
        try {
            context = await lease.model.createContext({
                contextSize: options.contextSize ?? 1024,
                ...(options.threads === undefined ? {} : { threads: options.threads }),
                ...(options.signal ? { createSignal: options.signal } : {}),
                ...(adapterPath ? { lora: { adapters: [{ filePath: adapterPath, scale: 1 }] } } : {})
            });
        } catch (error) {
            await lease.release();
            if (!adapterPath) throw new ChatLoadError(`cannot create a context for model ${modelPath}: ${(error as Error).message}`);
            throw new ChatLoadError(
                `cannot apply adapter ${adapterPath} to base model ${modelPath}: ${(error as Error).message}. ` +
                    "Is it a GGUF LoRA adapter trained on this base model?"
            );
        }
        const { LlamaChatSession } = await loadNodeLlamaCpp();
        const session = new LlamaChatSession({ contextSequence: context.getSequence(), chatWrapper: await createChatWrapperForModel(lease.model, modelPath) });
        const history: ChatMessage[] = options.system ? [{ role: "system", content: options.system }] : [];
        session.setChatHistory(chatHistoryFor(history));
        return new ModelChat(lease, context, session, history);
    }

    /** True when another session already had this model loaded (ModelPool). */
    get sharesModel(): boolean {
        return this.lease.shared;
    }

    /** The model's `general.name`, or its file name. */
    get modelName(): string {
        const name = this.lease.model.fileInfo.metadata?.general?.name;
        return typeof name === "string" && name !== "" ? name : basename(this.lease.model.filename ?? "model");
    }

    /** The wrapper that formats prompts (the model's own Jinja template). */
    get templateName(): string {
        return this.session.chatWrapper.wrapperName;
    }

    /** Asks within the running conversation (the REPL keeps it; `reset()` starts over). */
    async ask(prompt: string, options: AskOptions = {}): Promise<string> {
        return (await this.stream(prompt, options)).answer.trim();
    }

    /** Asks within the running conversation, streaming the answer; a stopped answer resolves with what it had. */
    async stream(prompt: string, options: StreamOptions = {}): Promise<StreamedAnswer> {
        const pieces: string[] = [];
        const answer = await this.session.prompt(prompt, {
            maxTokens: options.maxTokens ?? 128,
            temperature: options.temperature ?? 0,
            ...(options.topP === undefined ? {} : { topP: options.topP }),
            ...(options.signal ? { signal: options.signal, stopOnAbortSignal: true } : {}),
            onTextChunk: (text) => {
                pieces.push(text);
                options.onText?.(text);
            }
        });
        const streamed = pieces.join("");
        // node-llama-cpp's answer is the streamed text; should they ever differ, the streamed text is what the user saw.
        return { answer: streamed === answer ? answer : streamed, stopped: options.signal?.aborted === true };
    }

    /** Forgets the conversation: the next question is asked as the first one, as in training. */
    reset(): void {
        this.session.setChatHistory(chatHistoryFor(this.initialHistory));
    }

    /** Replaces the conversation by these exchanges (after the system prompt). */
    setHistory(exchanges: readonly ChatExchange[]): void {
        const messages: ChatMessage[] = [...this.initialHistory];
        for (const e of exchanges) messages.push({ role: "user", content: e.user }, { role: "assistant", content: e.assistant });
        this.session.setChatHistory(chatHistoryFor(messages));
    }

    async dispose(): Promise<void> {
        this.session.dispose();
        await this.context.dispose();
        await this.lease.release();
    }
}

async function loadPrivately(modelPath: string, signal: AbortSignal | undefined): Promise<ModelLease> {
    const llama = await getCpuLlama();
    const model: LlamaModel = await llama.loadModel({ modelPath, ...(signal ? { loadSignal: signal } : {}) });
    return { model, shared: false, release: () => model.dispose() };
}
