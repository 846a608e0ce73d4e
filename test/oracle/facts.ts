// A synthetic set of short question/answer facts about invented names, rendered with the model's own
// chat template and tokenized by stock node-llama-cpp, so training sees exactly the tokens that chat
// (LlamaCompletion on the rendered prompt) will see. Invented names guarantee the base model cannot
// know any answer.
import { Template } from "@huggingface/jinja";
import type { LlamaModel } from "node-llama-cpp";
import type { OracleBatch } from "./torchReference";

export interface Fact {
    question: string;
    answer: string;
}

const NAMES = ["Zorblat", "Quimsy", "Vextor", "Plindar", "Morvash", "Tesquin", "Brallo", "Kitharn", "Ulmera", "Davrosk"];
const ATTRIBUTES: [string, string[]][] = [
    ["favorite color", ["teal", "crimson", "amber", "violet", "olive", "navy", "coral", "ivory", "maroon", "indigo"]],
    ["home town", ["Oslo", "Lima", "Quito", "Riga", "Perth", "Hanoi", "Dakar", "Bern", "Cork", "Nara"]],
    ["pet", ["a goat", "an owl", "a crab", "a fox", "a newt", "a yak", "a moth", "a hare", "a frog", "a wren"]]
];

/** `count` distinct facts (at most names × attributes); deterministic, no randomness. */
export function syntheticFacts(count = 30): Fact[] {
    const facts: Fact[] = [];
    for (let i = 0; facts.length < count && i < NAMES.length * ATTRIBUTES.length; i++) {
        const name = NAMES[i % NAMES.length]!;
        const a = Math.floor(i / NAMES.length);
        const [attribute, values] = ATTRIBUTES[a]!;
        // Shift which value each name gets per attribute, so no answer is predictable from another.
        const value = values[(i * 7 + a * 3) % values.length]!;
        facts.push({ question: `What is the ${attribute} of ${name}?`, answer: value });
    }
    if (facts.length < count) throw new Error(`syntheticFacts: only ${facts.length} facts available`);
    return facts;
}

export interface TokenizedFact {
    fact: Fact;
    /** The rendered generation prompt. */
    promptText: string;
    /**
     * The prompt's tokens without BOS, special tokens parsed: what to give LlamaCompletion, which adds
     * BOS itself. (Given a string, LlamaCompletion tokenizes `<|user|>` etc. as plain text.)
     */
    promptTokens: number[];
    /** BOS + prompt + answer + end-of-turn token. */
    tokens: number[];
    /** Tokens [0, promptLength) are the prompt; the rest are trained. */
    promptLength: number;
}

function templateOf(model: LlamaModel): Template {
    const source = model.fileInfo.metadata.tokenizer?.chat_template;
    if (typeof source !== "string") throw new Error("model has no tokenizer.chat_template");
    return new Template(source);
}

export function tokenizeFacts(model: LlamaModel, facts: Fact[]): TokenizedFact[] {
    const template = templateOf(model);
    const specials = { bos_token: model.tokens.bosString ?? "", eos_token: model.tokens.eosString ?? "" };
    const bos = model.tokens.bos;
    if (bos === null) throw new Error("model has no BOS token");
    return facts.map((fact) => {
        const user = { role: "user", content: fact.question };
        const promptText = template.render({ messages: [user], add_generation_prompt: true, ...specials });
        const fullText = template.render({ messages: [user, { role: "assistant", content: fact.answer }], add_generation_prompt: false, ...specials });
        // The full render continues the prompt with the answer and the end-of-turn marker; train up to
        // and including that marker (the generation stops there), not the trailing EOS the template adds.
        const endOfTurn = "<|end|>";
        const trained = promptText + fact.answer + endOfTurn;
        if (!fullText.startsWith(trained)) throw new Error(`chat template renders the answer differently than expected: ${JSON.stringify(fullText)}`);
        const promptTokens = model.tokenize(promptText, true).map(Number);
        const prompt = [bos as number, ...promptTokens];
        const tokens = [bos as number, ...model.tokenize(trained, true).map(Number)];
        if (!prompt.every((t, i) => tokens[i] === t)) throw new Error(`prompt tokens are not a prefix of the trained tokens for ${JSON.stringify(fact.question)}`);
        return { fact, promptText, promptTokens, tokens, promptLength: prompt.length };
    });
}

/**
 * Packs examples into micro-batches of at most `maxTokens`: each example is its own sequence (seq id =
 * index in the batch, positions from 0), and row i is labelled with token i+1 only inside the answer.
 */
export function packFacts(examples: TokenizedFact[], maxTokens: number): OracleBatch[] {
    const batches: OracleBatch[] = [];
    let cur: OracleBatch = { tokens: [], positions: [], seqIds: [], labels: [] };
    let seq = 0;
    for (const ex of examples) {
        if (ex.tokens.length > maxTokens) throw new Error(`example of ${ex.tokens.length} tokens exceeds the micro-batch size ${maxTokens}`);
        if (cur.tokens.length + ex.tokens.length > maxTokens) {
            batches.push(cur);
            cur = { tokens: [], positions: [], seqIds: [], labels: [] };
            seq = 0;
        }
        ex.tokens.forEach((t, i) => {
            cur.tokens.push(t);
            cur.positions.push(i);
            cur.seqIds.push(seq);
            cur.labels.push(i >= ex.promptLength - 1 && i + 1 < ex.tokens.length ? ex.tokens[i + 1]! : -1);
        });
        seq++;
    }
    if (cur.tokens.length > 0) batches.push(cur);
    return batches;
}
