// The tokenizer and chat template each tiny architecture carries: a vocabulary GGUF and a template from
// node-llama-cpp's llama.cpp bundle (models/ggml-vocab-*.gguf, models/templates/*.jinja), never a download.
//
// Where a family's own vocabulary is not in the bundle, we take the bundled relative that shares its BPE and its
// token ids and give the few tokens that differ (added or chat tokens) the text and kind they have in the family's
// vocabulary ("renames"). test/unit/pipeline/support/templateFixtures.ts builds its vocabulary-only fixtures the
// same way, with the same ids.
import { readGguf, type GgufValue } from "../gguf";

/** llama.cpp's token types (gguf TokenType) that a rename can give: control (only parsed with special tokens on) or user-defined (always parsed). */
const TOKEN_TYPE = { control: 3, "user-defined": 4 } as const;
const TOKEN_TYPE_UNUSED = 5;

export interface TokenRename {
    id: number;
    text: string;
    kind: keyof typeof TOKEN_TYPE;
}

export interface TokenizerChoice {
    /** `models/ggml-vocab-<vocab>.gguf` in the bundle. */
    vocab: string;
    /** `models/templates/<template>.jinja` in the bundle. */
    template: string;
    /** Tokens of the bundled vocabulary renamed to the family's own (applied only when `vocab` is this one). */
    renames?: readonly TokenRename[];
    /** The family's `tokenizer.ggml.eos_token_id`, where it differs from the bundled vocabulary's. */
    eosTokenId?: number;
}

/** Qwen3's added tokens (tokenizer_config.json added_tokens_decoder, ids 151646-151668); `<|…|>` ones are control, as convert_hf_to_gguf.py marks them. */
const QWEN3_ADDED: readonly TokenRename[] = [
    "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>",
    "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>", "</think>"
].map((text, i) => ({ id: 151646 + i, text, kind: text.startsWith("<|") ? "control" : "user-defined" }));

const PHI3: TokenizerChoice = { vocab: "phi-3", template: "microsoft-Phi-3.5-mini-instruct" };

/**
 * Gemma 1-3 share one 262,144-token SentencePiece vocabulary; the bundle has only Gemma 4's, which has the same size
 * and ids and differs in the chat tokens: ids 105/106 are `<|turn>`/`<turn|>` there and `<start_of_turn>`/`<end_of_turn>`
 * in Gemma 3. We rename them back, so the Gemma 2 template's markers are single control tokens and llama.cpp finds
 * `<end_of_turn>` as end-of-generation by its text (llama-vocab.cpp). The 262k vocabulary also makes the Gemma models the
 * large-vocabulary case: 262144 output rows are 512 chunks of 2 x n_embd for the engine's output-projection backward.
 */
const GEMMA: TokenizerChoice = {
    vocab: "gemma-4",
    template: "google-gemma-2-2b-it",
    renames: [{ id: 105, text: "<start_of_turn>", kind: "control" }, { id: 106, text: "<end_of_turn>", kind: "control" }]
};

/** The tokenizer each tiny architecture carries, and why. */
export const TOKENIZERS = {
    // Today's default and the demo's: phi-3's 32k SentencePiece vocabulary with the Phi-3.5 template.
    llama: PHI3,
    // Qwen2.5's byte-level BPE (the bundled qwen2 vocabulary) and its ChatML template.
    qwen2: { vocab: "qwen2", template: "Qwen-Qwen2.5-7B-Instruct" },
    // Qwen3 is Qwen2.5's BPE plus 23 added tokens (<think>, <tool_call>, ...) in slots that are padding in the bundled
    // qwen2 vocabulary, and ends a turn with <|im_end|> (its eos_token_id).
    qwen3: { vocab: "qwen2", template: "Qwen-Qwen3-0.6B", renames: QWEN3_ADDED, eosTokenId: 151645 },
    // Phi-3 and Phi-3.5 mini ship exactly the bundled phi-3 vocabulary.
    phi3: PHI3,
    gemma: GEMMA,
    gemma2: GEMMA,
    gemma3: GEMMA,
    // SmolLM3 is Llama 3's 128k BPE (the bundled llama-bpe vocabulary) with ChatML and reasoning markers in reserved
    // slots: <think>/</think> at 128002/128003 and <|im_start|>/<|im_end|> at 128011/128012, which is its eos.
    smollm3: {
        vocab: "llama-bpe",
        template: "HuggingFaceTB-SmolLM3-3B",
        eosTokenId: 128012,
        renames: [
            { id: 128002, text: "<think>", kind: "user-defined" }, { id: 128003, text: "</think>", kind: "user-defined" },
            { id: 128011, text: "<|im_start|>", kind: "control" }, { id: 128012, text: "<|im_end|>", kind: "control" }
        ]
    },
    // Ministral 3's Tekken vocabulary (131k, [INST] as control tokens) is not in the bundle. llama-spm is the 32k
    // SentencePiece kind Mistral 7B v0.1 shipped with (<s>/</s>, [INST] spelled as text), and Mistral-Nemo's template
    // renders "<s>[INST]question[/INST]answer</s>" with no default system prompt or reasoning block: the same tokens a
    // Mistral-7B-Instruct-v0.1 prompt is made of, with </s> (a control token) ending the turn.
    mistral3: { vocab: "llama-spm", template: "mistralai-Mistral-Nemo-Instruct-2407" },
    // Gemma 4's own vocabulary (<|turn>/<turn|> at 105/106; llama.cpp ends generation at <turn|> by its text) and template.
    gemma4: { vocab: "gemma-4", template: "google-gemma-4-31B-it" },
    // The hybrid refusal fixture: the bundled qwen35 vocabulary (Qwen2.5's BPE with Qwen3.5's pre-tokenizer) and the
    // Qwen3.5 template, whose <|vision_start|>… and <think> markers get Qwen3's added-token ids (Qwen3.5's own 248k
    // vocabulary is not in the bundle).
    qwen35: { vocab: "qwen35", template: "Qwen3.5-4B", renames: QWEN3_ADDED, eosTokenId: 151645 }
} as const satisfies Record<string, TokenizerChoice>;

/** Tokenizer keys copied from a vocabulary GGUF; everything architecture-specific in it is dropped. */
export function tokenizerKv(vocabPath: string): [string, GgufValue][] {
    const vocab = readGguf(vocabPath);
    return [...vocab.kv].filter(([k]) => k.startsWith("tokenizer.") && k !== "tokenizer.chat_template");
}

/** The tokenizer keys with `renames` applied and `eosTokenId` set; throws, naming the file, when a rename does not fit. */
export function applyRenames(kv: [string, GgufValue][], choice: TokenizerChoice, vocabPath: string): [string, GgufValue][] {
    if (!choice.renames && choice.eosTokenId === undefined) return kv;
    const tokens = kv.find(([k]) => k === "tokenizer.ggml.tokens")?.[1];
    const types = kv.find(([k]) => k === "tokenizer.ggml.token_type")?.[1];
    if (tokens?.type !== "array" || tokens.itemType !== "string" || types?.type !== "array" || types.itemType === "string" || types.itemType === "bool") {
        throw new Error(`${vocabPath}: no tokenizer.ggml.tokens and tokenizer.ggml.token_type arrays to rename tokens in`);
    }
    const texts = [...tokens.value];
    const kinds = [...(types.value as number[])];
    const known = new Set(texts);
    for (const r of choice.renames ?? []) {
        if (r.id >= texts.length) throw new Error(`${vocabPath}: cannot rename token ${r.id} to ${r.text}; tokenizer.ggml.tokens has ${texts.length}`);
        if (known.has(r.text)) throw new Error(`${vocabPath}: tokenizer.ggml.tokens already has ${r.text}; renaming token ${r.id} would duplicate it`);
        texts[r.id] = r.text;
        kinds[r.id] = TOKEN_TYPE[r.kind];
    }
    return kv.map(([k, v]): [string, GgufValue] => {
        if (k === "tokenizer.ggml.tokens") return [k, { type: "array", itemType: "string", value: texts }];
        if (k === "tokenizer.ggml.token_type") return [k, { type: "array", itemType: types.itemType as "i32", value: kinds }];
        if (k === "tokenizer.ggml.eos_token_id" && choice.eosTokenId !== undefined) return [k, { type: "u32", value: choice.eosTokenId }];
        return [k, v];
    });
}

/** Pads the tokenizer arrays (tokens, token types, scores) with unused tokens up to `size` entries. */
export function padTokenizer(kv: [string, GgufValue][], size: number, vocabPath: string): [string, GgufValue][] {
    const tokens = kv.find(([k]) => k === "tokenizer.ggml.tokens")?.[1];
    const n = tokens?.type === "array" ? tokens.value.length : 0;
    if (!Number.isInteger(size) || size < n) throw new Error(`make-tiny-model: vocabSize ${size} must be an integer >= the ${n} tokens of ${vocabPath}`);
    const extra = size - n;
    if (extra === 0) return kv;
    const ids = Array.from({ length: extra }, (_, i) => n + i);
    return kv.map(([k, v]): [string, GgufValue] => {
        if (v.type !== "array") return [k, v];
        if (k === "tokenizer.ggml.tokens" && v.itemType === "string") return [k, { ...v, value: [...v.value, ...ids.map((id) => `[PAD${id}]`)] }];
        if (k === "tokenizer.ggml.token_type" && v.itemType !== "string" && v.itemType !== "bool" && typeof v.value[0] === "number") {
            return [k, { type: "array", itemType: v.itemType as "i32", value: [...(v.value as number[]), ...ids.map(() => TOKEN_TYPE_UNUSED)] }];
        }
        if (k === "tokenizer.ggml.scores" && typeof v.value[0] === "number") {
            return [k, { type: "array", itemType: v.itemType as "f32", value: [...(v.value as number[]), ...ids.map(() => 0)] }];
        }
        return [k, v];
    });
}

/**
 * Every special-token literal the template emits must be one token of the vocabulary: the `<|…|>` family and Gemma's
 * turn markers. `<think>` is not checked: it is ordinary text in vocabularies older than the reasoning templates
 * (Qwen2.5's), and tokenizes as text there.
 */
export function checkTemplateTokens(template: string, templatePath: string, kv: [string, GgufValue][], vocabPath: string): void {
    const tokens = kv.find(([k]) => k === "tokenizer.ggml.tokens")?.[1];
    if (!tokens || tokens.type !== "array" || tokens.itemType !== "string") throw new Error(`${vocabPath}: no tokenizer.ggml.tokens string array`);
    const known = new Set(tokens.value);
    for (const m of template.matchAll(/<\|[a-z_]+\|>|<(?:start|end)_of_turn>/g)) {
        if (!known.has(m[0])) throw new Error(`${templatePath}: special token ${m[0]} is not in the vocabulary ${vocabPath}`);
    }
}
