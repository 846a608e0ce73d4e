// Shared setup of the engine integration tests: whether the native build is present (tests skip by name
// only outside CI), a small tiny-model GGUF in a temp dir, and micro-batch builders.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEngine, nativeAddonPath, type AdapterOptions, type Engine, type MicroBatch, type OptimizerOptions } from "../../sidecar/src/engine";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";

/** `{ skip }` option for node:test: skip only when the addon is absent and we are not in CI (CI must build it). */
export const engineSkip: string | false =
    existsSync(nativeAddonPath()) || process.env.CI ? false : `native engine not built (${nativeAddonPath()}); run node scripts/build-native.mjs`;

/** A small llama (2 layers, width 256) with the real phi-3 tokenizer: fast enough for many steps per test. */
export const TEST_SHAPE = { nLayer: 2, nEmbd: 256, nHead: 4, nHeadKv: 2, nFf: 256 };

export interface EngineFixture {
    engine: Engine;
    dir: string;
    modelPath: string;
    cleanup(): void;
}

export async function engineFixture(): Promise<EngineFixture> {
    const dir = mkdtempSync(join(tmpdir(), "lora-studio-engine-"));
    const modelPath = join(dir, "tiny-f32.gguf");
    makeTinyModel({ out: modelPath, quant: "f32", shape: TEST_SHAPE, seed: 7 });
    const engine = await loadEngine();
    return { engine, dir, modelPath, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const ADAPTER: AdapterOptions = { rank: 4, alpha: 8, dropout: 0, seed: 42 };

export function optimizer(overrides: Partial<OptimizerOptions> = {}): OptimizerOptions {
    return {
        lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, gradClip: 0,
        schedule: "constant", warmupSteps: 0, totalSteps: 100, gradAccum: 1, ...overrides
    };
}

export interface Sequence {
    tokens: number[];
    /** Row i's target token, -1 = masked. Default: next token, last row masked. */
    labels?: number[];
}

/** Packs sequences into one micro-batch: seq id = index, positions restart at 0. */
export function pack(sequences: Sequence[]): MicroBatch {
    const tokens: number[] = [], positions: number[] = [], seqIds: number[] = [], labels: number[] = [];
    sequences.forEach((s, seq) => {
        const lab = s.labels ?? s.tokens.map((_, i) => (i + 1 < s.tokens.length ? s.tokens[i + 1]! : -1));
        s.tokens.forEach((t, i) => {
            tokens.push(t);
            positions.push(i);
            seqIds.push(seq);
            labels.push(lab[i]!);
        });
    });
    return { tokens: Int32Array.from(tokens), positions: Int32Array.from(positions), seqIds: Int32Array.from(seqIds), labels: Int32Array.from(labels) };
}

/** Deterministic pseudo-random token ids (the tokenizer's ordinary range). */
export function tokensFrom(seed: number, n: number): number[] {
    let x = seed >>> 0;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        out.push(100 + (x % 20000));
    }
    return out;
}

export function l2(a: Float32Array): number {
    let s = 0;
    for (const v of a) s += v * v;
    return Math.sqrt(s);
}

/** max |a - b| / max(|b|_inf, tiny) */
export function relMaxDiff(a: Float32Array, b: Float32Array): number {
    let d = 0, m = 1e-12;
    for (let i = 0; i < a.length; i++) {
        d = Math.max(d, Math.abs(a[i]! - b[i]!));
        m = Math.max(m, Math.abs(b[i]!));
    }
    return d / m;
}
