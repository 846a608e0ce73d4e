// A chat with a base model and, optionally, a LoRA adapter, through stock node-llama-cpp: the model's own
// template (createChatWrapperForModel) and a history seeded like the training data (chatHistoryFor), so the
// prompt is token for token what training saw. Used by `lora-studio chat` and the demo.
import { existsSync } from "node:fs";
import type { LlamaChatSession, LlamaContext, LlamaModel } from "node-llama-cpp";
import { chatHistoryFor, createChatWrapperForModel, getCpuLlama } from "../pipeline";
import { loadNodeLlamaCpp } from "../pipeline/nodeLlamaCpp";
import type { ChatMessage } from "../pipeline/types";

export interface ChatOptions {
    modelPath: string;
    adapterPath?: string;
    /** The system prompt; omit when the training data had none. */
    system?: string;
    contextSize?: number;
    /** CPU threads for generation; default node-llama-cpp's choice. Small models answer faster on one (no thread barriers). */
    threads?: number;
}

export interface AskOptions {
    maxTokens?: number;
    /** 0 = greedy (the default), so answers are reproducible. */
    temperature?: number;
    topP?: number;
}

export class ChatLoadError extends Error {
    override name = "ChatLoadError";
}

export class ModelChat {
    private constructor(
        private readonly model: LlamaModel,
        private readonly context: LlamaContext,
        private readonly session: LlamaChatSession,
        private readonly initialHistory: ChatMessage[]
    ) {}

    static async open(options: ChatOptions): Promise<ModelChat> {
        if (!existsSync(options.modelPath)) throw new ChatLoadError(`model ${options.modelPath} does not exist`);
        if (options.adapterPath !== undefined && !existsSync(options.adapterPath)) {
            throw new ChatLoadError(`adapter ${options.adapterPath} does not exist (base model ${options.modelPath})`);
        }
        const llama = await getCpuLlama();
        let model: LlamaModel;
        try {
            model = await llama.loadModel({ modelPath: options.modelPath });
        } catch (error) {
            throw new ChatLoadError(`cannot load model ${options.modelPath}: ${(error as Error).message}`);
        }
        let context: LlamaContext;
        try {
            context = await model.createContext({
                contextSize: options.contextSize ?? 1024,
                ...(options.threads === undefined ? {} : { threads: options.threads }),
                ...(options.adapterPath ? { lora: { adapters: [{ filePath: options.adapterPath, scale: 1 }] } } : {})
            });
        } catch (error) {
            await model.dispose();
            throw new ChatLoadError(
                `cannot apply adapter ${options.adapterPath} to base model ${options.modelPath}: ${(error as Error).message}. ` +
                    "Is it a GGUF LoRA adapter trained on this base model?"
            );
        }
        const { LlamaChatSession } = await loadNodeLlamaCpp();
        const session = new LlamaChatSession({ contextSequence: context.getSequence(), chatWrapper: await createChatWrapperForModel(model, options.modelPath) });
        const history: ChatMessage[] = options.system ? [{ role: "system", content: options.system }] : [];
        session.setChatHistory(chatHistoryFor(history));
        return new ModelChat(model, context, session, history);
    }

    /** Asks within the running conversation (the REPL keeps it; `reset()` starts over). */
    async ask(prompt: string, options: AskOptions = {}): Promise<string> {
        const answer = await this.session.prompt(prompt, {
            maxTokens: options.maxTokens ?? 128,
            temperature: options.temperature ?? 0,
            ...(options.topP === undefined ? {} : { topP: options.topP })
        });
        return answer.trim();
    }

    /** Forgets the conversation: the next question is asked as the first one, as in training. */
    reset(): void {
        this.session.setChatHistory(chatHistoryFor(this.initialHistory));
    }

    async dispose(): Promise<void> {
        this.session.dispose();
        await this.context.dispose();
        await this.model.dispose();
    }
}
