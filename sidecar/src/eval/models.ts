// The two models an evaluation compares, on one loaded base: a context without the adapter ("base") and one with
// it at scale 1 ("tuned"), as chat applies it. Each context has two sequences: one for a LlamaChatSession that
// answers greedily with the model's own template (the same wrapper and history seeding as ModelChat, so the prompt
// is token for token what training saw), one for scoring the reference answer's loss.
//
// The loss comes from node-llama-cpp's controlledEvaluate on the same tokens the trainer sees (the pipeline's
// renderConversation), asking only for the target token's logit, the top logit and the softmax normaliser per
// row: log p(target) = logit − max − ln Σ exp(logit_j − max). That is the cross-entropy the engine's evalLoss
// computes, without loading the training engine or a checkpoint (a plain GGUF adapter cannot be loaded there).
import type { LlamaChatSession, LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import type { BeforeAfter } from "../protocol/sidecar";
import { chatHistoryFor, createChatWrapperForModel } from "../pipeline/chatWrapper";
import { loadNodeLlamaCpp } from "../pipeline/nodeLlamaCpp";
import type { ChatMessage } from "../pipeline/types";

export type Side = keyof BeforeAfter<unknown>;

/** A rendered example: the trainer's tokens and which of them are the reference answer's targets. */
export interface ScoredTokens {
    tokens: readonly number[];
    /** Indices t whose token is predicted from the logits of row t − 1 (t ≥ 1). */
    targets: readonly number[];
}

interface SideContext {
    context: LlamaContext;
    chat: LlamaChatSession;
    scoring: LlamaContextSequence;
}

export class AdapterLoadError extends Error {
    override name = "AdapterLoadError";
}

export class EvalModels {
    private constructor(private readonly sides: BeforeAfter<SideContext>) {}

    /** Creates both contexts on `model`; `contextSize` must hold the longest prompt plus its answer. */
    static async open(model: LlamaModel, options: { modelPath: string; adapterPath: string; contextSize: number; threads?: number }): Promise<EvalModels> {
        const { LlamaChatSession } = await loadNodeLlamaCpp();
        const wrapper = await createChatWrapperForModel(model, options.modelPath);
        const create = async (lora: boolean): Promise<SideContext> => {
            const context = await model.createContext({
                contextSize: options.contextSize,
                sequences: 2,
                ...(options.threads === undefined ? {} : { threads: options.threads }),
                ...(lora ? { lora: { adapters: [{ filePath: options.adapterPath, scale: 1 }] } } : {})
            });
            const chat = new LlamaChatSession({ contextSequence: context.getSequence(), chatWrapper: wrapper, autoDisposeSequence: true });
            return { context, chat, scoring: context.getSequence() };
        };
        const base = await create(false);
        let tuned: SideContext;
        try {
            tuned = await create(true);
        } catch (error) {
            await base.context.dispose();
            throw new AdapterLoadError(
                `cannot apply adapter ${options.adapterPath} to base model ${options.modelPath}: ${(error as Error).message}. Is it a GGUF LoRA adapter trained on this base model?`
            );
        }
        return new EvalModels({ base, tuned });
    }

    /** The greedy answer to the prompt's last user turn, after its earlier turns, from a fresh conversation. */
    async answer(side: Side, prompt: readonly ChatMessage[], maxTokens: number, signal?: AbortSignal): Promise<string> {
        const { chat } = this.sides[side];
        chat.setChatHistory(chatHistoryFor(prompt.slice(0, -1)));
        const answer = await chat.prompt(prompt.at(-1)!.content, { maxTokens, temperature: 0, ...(signal ? { signal } : {}) });
        return answer.trim();
    }

    /** Summed negative log-likelihood (nats) of the target tokens, and how many there are. */
    async referenceNll(side: Side, scored: ScoredTokens): Promise<{ nll: number; tokens: number }> {
        if (scored.targets.length === 0) return { nll: 0, tokens: 0 };
        const { scoring } = this.sides[side];
        await scoring.clearHistory();
        const targetAt = new Map(scored.targets.map((t) => [t - 1, scored.tokens[t]! as Token]));
        const last = Math.max(...scored.targets);
        const input = scored.tokens.slice(0, last).map((token, row) => {
            const target = targetAt.get(row);
            if (target === undefined) return token as Token;
            return [token as Token, { generateNext: { logits: { filter: { tokens: [target], includeMax: true } }, totalLogitWeight: true } }] as const;
        });
        const results = await scoring.controlledEvaluate(input as Parameters<LlamaContextSequence["controlledEvaluate"]>[0]);
        let nll = 0;
        for (const [row, target] of targetAt) {
            const next = results[row]?.next;
            const logits = next?.logits;
            const weight = next?.totalLogitWeight;
            const logit = logits?.get(target);
            if (!logits || weight === undefined || logit === undefined) throw new Error(`node-llama-cpp returned no logits for row ${row}`);
            const max = Math.max(...logits.values());
            nll -= logit - max - Math.log(weight);
        }
        return { nll, tokens: targetAt.size };
    }

    async dispose(): Promise<void> {
        for (const side of [this.sides.base, this.sides.tuned]) {
            side.chat.dispose();
            await side.context.dispose();
        }
    }
}
