// A chat with a base model and, optionally, a LoRA adapter, through stock node-llama-cpp: the model's own
// template (createChatWrapperForModel) and a history seeded like the training data (chatHistoryFor), so the
// prompt is token for token what training saw. Used by `lora-studio chat`, the sidecar's chat/… requests
// (through a ModelPool, so two sessions on one model file share its weights) and the demo.
import { basename } from "node:path";
import type { ChatHistoryItem, LlamaChatSession, LlamaContext, LlamaModel } from "node-llama-cpp";
import { chatHistoryFor, createChatWrapperForModel, getCpuLlama } from "../pipeline";
import { loadNodeLlamaCpp } from "../pipeline/nodeLlamaCpp";
import type { ChatMessage } from "../pipeline/types";
import { AdapterMismatchError, checkAdapterFitsModel } from "../adapters/adapterFit";
import { ModelFileError, openModelFile, type GgufFile } from "../gguf";
import { defaultInferenceThreads, weightsPerToken } from "./inferenceThreads";
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
    /** Set when earlier exchanges did not fit the context with this question and were dropped; show it. */
    notice?: string;
}

/** An earlier exchange, to replay a conversation. */
export interface ChatExchange {
    user: string;
    assistant: string;
}

export class ChatLoadError extends Error {
    override name = "ChatLoadError";
}

/** A question that, with the system prompt, its template and room for the answer, does not fit the context. */
export class PromptTooLongError extends Error {
    override name = "PromptTooLongError";
}

/** Tokens of context a chat gets when the caller does not say (chat/open's contextSize, `--context-size`). */
export const DEFAULT_CHAT_CONTEXT_SIZE = 1024;
/** Longest answer when the caller does not say. */
export const DEFAULT_CHAT_MAX_TOKENS = 128;

export class ModelChat {
    private constructor(
        private readonly lease: ModelLease,
        private readonly context: LlamaContext,
        private readonly session: LlamaChatSession,
        private readonly initialHistory: ChatMessage[],
        /** Tokens of context this chat has. */
        readonly contextSize: number,
        /** Threads each answer uses (explicit, or the measured default: chat/inferenceThreads.ts). */
        readonly threads: number,
        /** Problems that do not stop the chat, e.g. an adapter recorded for another base of the same shape. */
        readonly warnings: readonly string[]
    ) {}

    static async open(options: ChatOptions): Promise<ModelChat> {
        const { modelPath, adapterPath } = options;
        // The same header checks as train, eval and export, before llama.cpp sees the file.
        let header: GgufFile;
        try {
            header = openModelFile(modelPath, { skipArraysOver: 4096 });
        } catch (error) {
            if (error instanceof ModelFileError) throw new ChatLoadError(error.message);
            throw error;
        }
        let warnings: string[] = [];
        if (adapterPath !== undefined) {
            try {
                warnings = checkAdapterFitsModel(modelPath, adapterPath);
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
        const contextSize = options.contextSize ?? DEFAULT_CHAT_CONTEXT_SIZE;
        const threads = defaultInferenceThreads(weightsPerToken(header.tensors), options.threads);
        let context: LlamaContext;
        try {
            context = await lease.model.createContext({
                contextSize,
                threads,
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
        return new ModelChat(lease, context, session, history, context.contextSize, threads, warnings);
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
        const maxTokens = options.maxTokens ?? DEFAULT_CHAT_MAX_TOKENS;
        const notice = this.checkFits(prompt, maxTokens);
        const pieces: string[] = [];
        const answer = await this.session.prompt(prompt, {
            maxTokens,
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
        return { answer: streamed === answer ? answer : streamed, stopped: options.signal?.aborted === true, ...(notice ? { notice } : {}) };
    }

    /** Tokens the template renders for this history plus the question (and the opening of the answer). */
    private promptTokens(history: ChatHistoryItem[], prompt: string): number {
        const chatHistory: ChatHistoryItem[] = [...history, { type: "user", text: prompt }, { type: "model", response: [] }];
        return this.session.chatWrapper.generateContextState({ chatHistory }).contextText.tokenize(this.lease.model.tokenizer).length;
    }

    /**
     * Refuses a question that cannot be answered in this context (it, the system prompt and the template, plus
     * `maxTokens` of answer, exceed the context), instead of letting generation stall; returns a notice when only
     * earlier exchanges are too much, since node-llama-cpp then drops the oldest to make room.
     */
    private checkFits(prompt: string, maxTokens: number): string | undefined {
        const system = this.session.getChatHistory().filter((item) => item.type === "system");
        const alone = this.promptTokens(system, prompt);
        if (alone + maxTokens > this.contextSize) {
            throw new PromptTooLongError(
                `the question is too long for the context: with the system prompt and the chat template it is ${alone} tokens, and with an answer of up to ${maxTokens} tokens ` +
                    `it needs ${alone + maxTokens}, but the context holds ${this.contextSize}; shorten it, lower maxTokens (--max-tokens) or raise contextSize (--context-size)`
            );
        }
        const all = this.promptTokens(this.session.getChatHistory(), prompt);
        if (all + maxTokens <= this.contextSize) return undefined;
        return `the conversation so far (${all} tokens with this question) and an answer of up to ${maxTokens} tokens exceed the context of ${this.contextSize} tokens, so the oldest exchanges are dropped; /reset (or a new chat) starts over`;
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
