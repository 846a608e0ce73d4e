// Benchmark of one LoRA training step of the native engine (forward + backward + AdamW) on a ~50–100M-parameter
// llama shape (BENCH_SHAPE; benchModels(arch) builds the same shape for any trainable family), for an F32 base and
// its Q4_0 and Q4_K_M quantizations.
//   npm run build && node out/bench/engine-step.mjs [--tokens N] [--steps N] [--threads N] [--rank R]
// Each base runs in its own child process so peak RSS belongs to that base alone. Reports the median step time,
// tokens/s and peak RSS. The PyTorch CPU reference on the same shape and tokens is added by the oracle side
// (test/oracle/), which calls benchEngineStep() / benchTokens() from here so both measure the same work.
// Goal (issue 2): ≥ 1.0× PyTorch CPU tokens/s on the Q4 bases.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadEngine, packageRoot, type MicroBatch } from "../sidecar/src/engine";
import type { TrainableArch } from "../sidecar/src/engine/architectures";
import { makeTinyModel } from "../sidecar/src/tinyModel/makeTinyModel";
import { BENCH_SHAPE } from "../sidecar/src/tinyModel/shape";

export interface EngineStepBenchOptions {
    modelPath: string;
    /** Tokens in the micro-batch (one sequence, every row labelled but the last). Default 176, as the spike. */
    nTokens?: number;
    /** Timed steps (median reported); one untimed warm-up step runs first. */
    steps?: number;
    threads?: number;
    rank?: number;
}

export interface EngineStepBenchResult {
    modelPath: string;
    arch: string;
    fileType: string;
    nParams: number;
    nVocab: number;
    nTokens: number;
    medianStepMs: number;
    /** CPU time of the step (all threads): on a shared machine the wall time mostly measures the other load. */
    medianStepCpuMs: number;
    tokensPerSecond: number;
    /** Peak RSS of the whole process so far (run one base per process). */
    peakRssBytes: number;
    stepTimesMs: number[];
    stepCpuMs: number[];
    /** The adapted weights (blk.N.<tensor>.weight), sorted: what the reference must adapt too. */
    adapterWeights: string[];
}

/** The benchmark's token ids: deterministic, the same for the engine and the PyTorch reference. */
export function benchTokens(nTokens: number, seed = 1): number[] {
    let x = seed >>> 0;
    return Array.from({ length: nTokens }, () => {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        return 100 + (x % 30000);
    });
}

export function benchBatch(nTokens: number): MicroBatch {
    const tokens = benchTokens(nTokens);
    return {
        tokens: Int32Array.from(tokens),
        positions: Int32Array.from(tokens.map((_, i) => i)),
        seqIds: new Int32Array(nTokens),
        labels: Int32Array.from(tokens.map((_, i) => (i + 1 < nTokens ? tokens[i + 1]! : -1)))
    };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchEngineStep(opts: EngineStepBenchOptions): Promise<EngineStepBenchResult> {
    const nTokens = opts.nTokens ?? 176;
    const engine = await loadEngine();
    const model = await engine.loadModel(opts.modelPath, { threads: opts.threads ?? 2, nCtx: nTokens });
    const trainer = await model.createTrainer(
        { rank: opts.rank ?? 8, alpha: 16, dropout: 0, seed: 1 },
        { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, gradClip: 0, schedule: "constant", warmupSteps: 0, totalSteps: 1000, gradAccum: 1 }
    );
    const batch = benchBatch(nTokens);
    await trainer.step(batch); // warm-up: graph allocation, page-in of the mapped base
    const times: number[] = [], cpuTimes: number[] = [];
    for (let i = 0; i < (opts.steps ?? 5); i++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await trainer.step(batch);
        times.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpuTimes.push((c.user + c.system) / 1000);
    }
    const info = model.info;
    const adapterWeights = [...new Set(Object.keys(trainer.adapterTensors()).map((n) => n.replace(/\.lora_[ab]$/, "")))].sort();
    trainer.dispose();
    model.dispose();
    const ms = median(times);
    return {
        modelPath: opts.modelPath, arch: info.arch, fileType: info.fileType, nParams: info.nParams, nVocab: info.nVocab, nTokens, medianStepMs: ms, medianStepCpuMs: median(cpuTimes),
        tokensPerSecond: (nTokens * 1000) / ms, peakRssBytes: process.resourceUsage().maxRSS * 1024, stepTimesMs: times, stepCpuMs: cpuTimes, adapterWeights
    };
}

export const BENCH_BASES = ["f32", "q4_0", "q4_k_m"] as const;
export type BenchBase = (typeof BENCH_BASES)[number];

/**
 * The bench-shape model of one family (its own tokenizer, so its own vocabulary size) as F32 plus its Q4_0 and Q4_K_M
 * quantizations by the engine's quantizer, cached under .cache/bench/ (llama keeps the first bench's file names).
 * The cache is keyed by name only: pass `fresh` after the tiny-model generator changes.
 */
export async function benchModels(arch: TrainableArch = "llama", opts: { fresh?: boolean } = {}): Promise<Record<BenchBase, string>> {
    const dir = join(packageRoot(), ".cache", "bench");
    mkdirSync(dir, { recursive: true });
    const file = (base: BenchBase): string => join(dir, arch === "llama" ? `bench-${base}.gguf` : `bench-${arch}-${base}.gguf`);
    const out = { f32: file("f32"), q4_0: file("q4_0"), q4_k_m: file("q4_k_m") };
    const fresh = opts.fresh ?? false;
    // The sizes of BENCH_SHAPE; norm epsilon and RoPE base stay the family's own (llama's are BENCH_SHAPE's).
    const { nLayer, nEmbd, nHead, nHeadKv, nFf } = BENCH_SHAPE;
    if (fresh || !existsSync(out.f32)) makeTinyModel({ out: out.f32, arch, quant: "f32", shape: { nLayer, nEmbd, nHead, nHeadKv, nFf }, seed: 1 });
    const engine = await loadEngine();
    for (const q of ["q4_0", "q4_k_m"] as const) {
        if (fresh || !existsSync(out[q])) await engine.quantizeModel(out.f32, out[q], q);
    }
    return out;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: { child: { type: "string" }, tokens: { type: "string" }, steps: { type: "string" }, threads: { type: "string" }, rank: { type: "string" } }
    });
    const common = {
        nTokens: Number(values.tokens ?? 176),
        steps: Number(values.steps ?? 5),
        threads: Number(values.threads ?? 2),
        rank: Number(values.rank ?? 8)
    };
    if (values.child) {
        process.stdout.write(JSON.stringify(await benchEngineStep({ modelPath: values.child, ...common })) + "\n");
        return;
    }
    const models = await benchModels();
    console.log(`engine LoRA step, r=${common.rank} on all seven modules, ${common.nTokens} tokens, ${common.threads} threads, median of ${common.steps}`);
    for (const [name, path] of Object.entries(models)) {
        const args = [process.argv[1]!, "--child", path, "--tokens", String(common.nTokens), "--steps", String(common.steps), "--threads", String(common.threads), "--rank", String(common.rank)];
        const r = spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
        if (r.status !== 0) throw new Error(`bench child for ${name} failed (${r.status})`);
        const res = JSON.parse(r.stdout.trim().split("\n").pop()!) as EngineStepBenchResult;
        console.log(`${name.padEnd(7)} ${(res.nParams / 1e6).toFixed(1)}M params  step ${res.medianStepMs.toFixed(0).padStart(5)} ms (cpu ${res.medianStepCpuMs.toFixed(0)} ms)  ` +
            `${res.tokensPerSecond.toFixed(0).padStart(6)} tokens/s  peak RSS ${(res.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
    }
}

if (process.argv[1]?.endsWith("engine-step.mjs")) {
    main().catch((err: unknown) => {
        console.error(err);
        process.exit(1);
    });
}
