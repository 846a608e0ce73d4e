// Test models under .cache/fixtures/, listed in fixtures.json (name → make-tiny-model options).
// `scripts/make-fixtures.mjs` (run by `npm test`) regenerates them when the generator changes; a test run on its own
// generates any that are missing. writeGguf writes a temporary sibling and renames it, so parallel generation is safe.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { makeTinyModel, type TinyModelArch, type TinyModelQuant } from "../../sidecar/src/tinyModel/makeTinyModel";
import { repoRoot } from "./torchReference";
import list from "./fixtures.json";

export interface FixtureSpec {
    arch: TinyModelArch;
    quant: TinyModelQuant;
    /** A mixture-of-experts llama: this many experts, 2 routed per token (make-tiny-model --experts). */
    experts?: number;
}

export const FIXTURES: Readonly<Record<string, FixtureSpec>> = list as Record<string, FixtureSpec>;

/** The architectures with an F32 fixture the trainer should learn on (the refusal fixtures excluded). */
export const TRAINABLE_FIXTURE_ARCHS = ["llama", "qwen2", "qwen3", "phi3", "gemma", "gemma2", "gemma3", "smollm3", "mistral3", "gemma4"] as const satisfies readonly TinyModelArch[];

export function fixturesDir(): string {
    const dir = join(repoRoot(), ".cache", "fixtures");
    mkdirSync(dir, { recursive: true });
    return dir;
}

/** Path of a fixture listed in fixtures.json, generated if missing. */
export function fixturePath(name: string): string {
    const spec = FIXTURES[name];
    if (!spec) throw new Error(`no fixture ${name} in test/oracle/fixtures.json (have ${Object.keys(FIXTURES).join(", ")})`);
    const path = join(fixturesDir(), name);
    if (!existsSync(path)) {
        makeTinyModel({ out: path, arch: spec.arch, quant: spec.quant, ...(spec.experts ? { experts: { count: spec.experts, used: 2 } } : {}) });
    }
    return path;
}

/** `tiny-<quant>.gguf` for llama (the first fixtures' names), `tiny-<arch>-<quant>.gguf` for the others. */
export function archFixturePath(arch: TinyModelArch, quant: TinyModelQuant = "f32"): string {
    return fixturePath(arch === "llama" ? `tiny-${quant}.gguf` : `tiny-${arch}-${quant}.gguf`);
}

/** The refusal fixtures: a Mixtral-style mixture-of-experts llama and Qwen3.5's hybrid (gated delta net) stack. */
export type RefusalKind = "moe" | "hybrid";
export function refusalFixturePath(kind: RefusalKind): string {
    return fixturePath({ moe: "tiny-llama-moe-f32.gguf", hybrid: "tiny-qwen35-f32.gguf" }[kind]);
}
