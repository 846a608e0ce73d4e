// Vocabulary-only GGUFs carrying real chat templates: a copy of one of llama.cpp's bundled ggml-vocab-*.gguf files
// with `tokenizer.chat_template` replaced by one of the bundled models/templates/*.jinja files.
// Written under .cache/ (git-ignored) once per template, atomically, so parallel test files can share them.
//
// Some families' vocabularies are not in the bundle, but one of their relatives is, differing only in the added
// (special) tokens: Qwen3 is Qwen2.5's BPE plus <think>, <tool_call>, … at ids 151646-151668 (padding slots in the
// bundled qwen2 vocabulary); Gemma 2/3 use <start_of_turn>/<end_of_turn> where Gemma 4 has <|turn>/<turn|>; SmolLM3
// is Llama 3's BPE with <|im_start|>/<|im_end|> and <think>/</think> in reserved slots. Such a fixture renames those
// tokens (`renames`), with the very renames the tiny models of those architectures carry (tinyModel/tokenizers.ts).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readGguf, writeGguf, type GgufValue } from "../../../../sidecar/src/gguf";
import { bundledTemplatePath, bundledVocabPath } from "../../../../sidecar/src/tinyModel/bundleAssets";
import { TOKENIZERS } from "../../../../sidecar/src/tinyModel/tokenizers";

export interface TemplateFixture {
    /** Short name used in test titles. */
    name: string;
    vocab: string;
    template: string;
    /** The template's end-of-turn marker as text, for the tests' expectations. */
    endOfTurn: string;
    /**
     * Phi-3's vocabulary marks its chat tokens with llama.cpp's RSTRIP attribute (as Hugging Face's tokenizer does), so
     * tokenizing "<|user|>\nhi" swallows the newline: the decoded tokens lack the whitespace the template printed.
     */
    specialTokensEatFollowingWhitespace?: boolean;
    /** Tokens of the bundled vocabulary given the text and kind they have in the family's own vocabulary. */
    renames?: readonly TokenRename[] | undefined;
    /** `tokenizer.ggml.eos_token_id` of the family's own GGUF, when it differs from the bundled vocabulary's. */
    eosTokenId?: number;
    /** The template's reasoning markers, which must never be trained on (data without reasoning). */
    thinkTokens?: readonly string[];
    /**
     * The template renders an earlier reply differently once a later user turn follows (Qwen3 prints the empty think
     * block before the newest reply only), so each reply trains in its own sequence, after the prompt chat sends.
     */
    perTurnSequences?: boolean;
    /** The template raises on a system message, and chat folds it into the first user turn (Gemma 2/3). */
    noSystemRole?: boolean;
}

/** llama.cpp's token types (gguf TokenType): a special token that only parses with special tokens on, or an added one that always does. */
const TOKEN_TYPE = { control: 3, "user-defined": 4 } as const;

export interface TokenRename {
    id: number;
    text: string;
    kind: keyof typeof TOKEN_TYPE;
}

export const templateFixtures: TemplateFixture[] = [
    { name: "Qwen2.5", vocab: "qwen2", template: "Qwen-Qwen2.5-7B-Instruct", endOfTurn: "<|im_end|>" },
    {
        name: "Qwen3", vocab: "qwen2", template: "Qwen-Qwen3-0.6B", endOfTurn: "<|im_end|>", renames: TOKENIZERS.qwen3.renames, eosTokenId: TOKENIZERS.qwen3.eosTokenId,
        thinkTokens: ["<think>", "</think>"], perTurnSequences: true
    },
    { name: "Llama-3.2", vocab: "llama-bpe", template: "meta-llama-Llama-3.2-3B-Instruct", endOfTurn: "<|eot_id|>" },
    { name: "Gemma-4", vocab: "gemma-4", template: "google-gemma-4-31B-it", endOfTurn: "<turn|>" },
    {
        name: "Gemma-2", vocab: "gemma-4", template: "google-gemma-2-2b-it", endOfTurn: "<end_of_turn>", noSystemRole: true, renames: TOKENIZERS.gemma2.renames
    },
    {
        name: "SmolLM3", vocab: "llama-bpe", template: "HuggingFaceTB-SmolLM3-3B", endOfTurn: "<|im_end|>", thinkTokens: ["<think>", "</think>"],
        renames: TOKENIZERS.smollm3.renames, eosTokenId: TOKENIZERS.smollm3.eosTokenId
    },
    { name: "Phi-3.5", vocab: "phi-3", template: "microsoft-Phi-3.5-mini-instruct", endOfTurn: "<|end|>", specialTokensEatFollowingWhitespace: true },
    {
        // Mistral 3's Tekken vocabulary is a BPE like Llama 3's; its control tokens are named here in reserved slots.
        name: "Ministral-3", vocab: "llama-bpe", template: "mistralai-Ministral-3-14B-Reasoning-2512", endOfTurn: "</s>",
        renames: [
            { id: 128000, text: "<s>", kind: "control" }, { id: 128001, text: "</s>", kind: "control" },
            { id: 128002, text: "[INST]", kind: "control" }, { id: 128003, text: "[/INST]", kind: "control" },
            { id: 128004, text: "[SYSTEM_PROMPT]", kind: "control" }, { id: 128005, text: "[/SYSTEM_PROMPT]", kind: "control" },
            { id: 128008, text: "[THINK]", kind: "control" }, { id: 128010, text: "[/THINK]", kind: "control" }
        ]
    }
];

/** A fixture by name (they are few and fixed; a typo should fail loudly). */
export function templateFixture(name: string): TemplateFixture {
    const f = templateFixtures.find((x) => x.name === name);
    if (!f) throw new Error(`no template fixture named ${name} (have ${templateFixtures.map((x) => x.name).join(", ")})`);
    return f;
}

function repoRoot(): string {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, "package.json"))) {
        if (dir === dirname(dir)) throw new Error("repository root not found above the test file");
        dir = dirname(dir);
    }
    return dir;
}

export function templateText(fixture: TemplateFixture): string {
    return readFileSync(bundledTemplatePath(fixture.template), "utf8");
}

/** `.cache/pipeline-fixtures/` in the repository (git-ignored). */
export function fixtureCacheDir(): string {
    const dir = join(repoRoot(), ".cache", "pipeline-fixtures");
    mkdirSync(dir, { recursive: true });
    return dir;
}

/** The tokenizer arrays with the fixture's renames applied; throws if a rename does not fit the vocabulary. */
function renameTokens(kv: Map<string, GgufValue>, renames: readonly TokenRename[], vocabPath: string): void {
    const tokens = kv.get("tokenizer.ggml.tokens");
    const types = kv.get("tokenizer.ggml.token_type");
    if (tokens?.type !== "array" || tokens.itemType !== "string" || types?.type !== "array") throw new Error(`${vocabPath}: no token and token type arrays`);
    const texts = [...(tokens.value as string[])];
    const kinds = [...(types.value as number[])];
    for (const r of renames) {
        if (r.id >= texts.length) throw new Error(`${vocabPath}: cannot rename token ${r.id}, the vocabulary has ${texts.length}`);
        if (texts[r.id] === r.text) continue; // already the family's (a tiny model made with its own renames)
        if (texts.includes(r.text)) throw new Error(`${vocabPath} already has ${r.text}`);
        texts[r.id] = r.text;
        kinds[r.id] = TOKEN_TYPE[r.kind];
    }
    kv.set("tokenizer.ggml.tokens", { ...tokens, value: texts });
    kv.set("tokenizer.ggml.token_type", { ...types, value: kinds } as GgufValue);
}

/** The fixture's own special tokens and EOS in a GGUF's metadata (a no-op for fixtures on their own vocabulary). */
export function applyFixtureTokens(kv: Map<string, GgufValue>, fixture: TemplateFixture, path: string): void {
    if (fixture.renames) renameTokens(kv, fixture.renames, path);
    if (fixture.eosTokenId !== undefined) kv.set("tokenizer.ggml.eos_token_id", { type: "u32", value: fixture.eosTokenId });
}

/** Path of the vocab GGUF with the fixture's template (and renamed tokens); created on first use. */
export function fixtureModelPath(fixture: TemplateFixture): string {
    const out = join(fixtureCacheDir(), `${fixture.vocab}+${fixture.template}${fixture.renames ? `+${fixture.name}-tokens` : ""}.gguf`);
    if (existsSync(out)) return out;
    const source = readGguf(bundledVocabPath(fixture.vocab));
    if (source.tensors.length !== 0) throw new Error(`${source.path} has tensors; expected a vocabulary-only GGUF`);
    const kv = new Map<string, GgufValue>(source.kv);
    kv.set("tokenizer.chat_template", { type: "string", value: templateText(fixture) });
    applyFixtureTokens(kv, fixture, source.path);
    writeGguf(out, { kv, tensors: [], alignment: source.alignment });
    return out;
}
