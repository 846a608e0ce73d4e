// Vocabulary-only GGUFs carrying real chat templates: a copy of one of llama.cpp's bundled ggml-vocab-*.gguf files
// with `tokenizer.chat_template` replaced by one of the bundled models/templates/*.jinja files.
// Written under .cache/ (git-ignored) once per template, atomically, so parallel test files can share them.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readGguf, writeGguf, type GgufValue } from "../../../../sidecar/src/gguf";
import { bundledTemplatePath, bundledVocabPath } from "../../../../sidecar/src/tinyModel/bundleAssets";

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
}

// Gemma 2's <start_of_turn> tokens are not in the bundled Gemma vocabulary (only Gemma 4's is shipped), so Gemma is
// tested with the Gemma 4 template on its own vocabulary.
export const templateFixtures: TemplateFixture[] = [
    { name: "Qwen2.5", vocab: "qwen2", template: "Qwen-Qwen2.5-7B-Instruct", endOfTurn: "<|im_end|>" },
    { name: "Llama-3.2", vocab: "llama-bpe", template: "meta-llama-Llama-3.2-3B-Instruct", endOfTurn: "<|eot_id|>" },
    { name: "Gemma-4", vocab: "gemma-4", template: "google-gemma-4-31B-it", endOfTurn: "<turn|>" },
    { name: "Phi-3.5", vocab: "phi-3", template: "microsoft-Phi-3.5-mini-instruct", endOfTurn: "<|end|>", specialTokensEatFollowingWhitespace: true }
];

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

/** Path of the vocab GGUF with the fixture's template; created on first use. */
export function fixtureModelPath(fixture: TemplateFixture): string {
    const out = join(fixtureCacheDir(), `${fixture.vocab}+${fixture.template}.gguf`);
    if (existsSync(out)) return out;
    const source = readGguf(bundledVocabPath(fixture.vocab));
    if (source.tensors.length !== 0) throw new Error(`${source.path} has tensors; expected a vocabulary-only GGUF`);
    const kv = new Map<string, GgufValue>(source.kv);
    kv.set("tokenizer.chat_template", { type: "string", value: templateText(fixture) });
    writeGguf(out, { kv, tensors: [], alignment: source.alignment });
    return out;
}
