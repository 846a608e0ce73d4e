// GPU benchmark of the engine's LoRA training (issue 6), one shape per process (peak VRAM belongs to that run):
//   node out/bench/gpu/engineBench.mjs --shape llama-3.2-1b --work DIR [--base q4_k_m] [--seq 512] [--accum 8]
//        [--rank 16] [--steps 10] [--warmup 2] [--dry-run]
// Writes DIR/<shape>.gguf (F32, random weights tiled from one block: fastWeights, memcpy speed for 1-2B parameters)
// and DIR/<shape>-<base>.gguf (quantizeModel), cached across runs,
// DIR/<shape>.shape.json for the HF baseline, and prints one JSON result line on stdout (progress on stderr).
// Micro-batches are packed rows of `seq` tokens (4 sequences each, separate seq ids); an optimizer step is `accum`
// micro-batches, so tokens per optimizer step = seq × accum, the same as the HF baseline's batch × accumulation.
// Peak VRAM: the device's used memory (cudaMemGetInfo, through capabilities()) sampled after every micro-batch,
// minus its value before the model loaded: weights, adapter, graph buffers and the CUDA pool, like torch's
// max_memory_reserved on the HF side.
// --dry-run: a one-layer, 256-wide stand-in of the shape (same arch and vocabulary) and 2 short steps, to check
// the pipeline on a machine without a GPU.
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { cpuNodeCount, describeBackend, loadEngine, type Engine, type MicroBatch, type QuantizeType } from "../../sidecar/src/engine";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { BENCH_SHAPES, dryRunShape, flopsPerToken, matmulParams, type BenchShape } from "./shapes";

const SEQS_PER_ROW = 4;

export interface EngineBenchResult {
    kind: "engine";
    shape: string;
    base: string;
    backend: string;
    device: string | null;
    seqLen: number;
    tokensPerOptimizerStep: number;
    optimizerSteps: number;
    seconds: number;
    tokensPerSecond: number;
    peakVramBytes: number | null;
    matmulParams: number;
    flopsPerToken: number;
    backendNodes: { name: string; nodes: number }[];
    cpuOps: { op: string; nodes: number }[];
    finalLoss: number;
}

function log(message: string): void {
    process.stderr.write(`engineBench: ${message}\n`);
}

/** Row r of the benchmark data: SEQS_PER_ROW sequences of seq/SEQS_PER_ROW random tokens, every next token labelled. */
function packedRow(seqLen: number, nVocab: number, r: number): MicroBatch {
    const per = Math.floor(seqLen / SEQS_PER_ROW);
    const tokens = new Int32Array(seqLen), positions = new Int32Array(seqLen), seqIds = new Int32Array(seqLen), labels = new Int32Array(seqLen);
    let x = (r * 2654435761) >>> 0;
    for (let i = 0; i < seqLen; i++) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        tokens[i] = x % Math.min(nVocab, 100000);
        const seq = Math.min(SEQS_PER_ROW - 1, Math.floor(i / per));
        seqIds[i] = seq;
        positions[i] = i - seq * per;
    }
    for (let i = 0; i < seqLen; i++) labels[i] = i + 1 < seqLen && seqIds[i + 1] === seqIds[i] ? tokens[i + 1]! : -1;
    return { tokens, positions, seqIds, labels };
}

/** The random F32 GGUF of the shape and its quantization, made once per work directory. */
async function benchModel(engine: Engine, s: BenchShape, base: string, work: string): Promise<string> {
    const f32 = join(work, `${s.name}.gguf`);
    if (!existsSync(f32)) {
        log(`writing ${f32}`);
        const tmp = `${f32}.tmp-${process.pid}`;
        makeTinyModel({
            out: tmp, quant: "f32", shape: s.shape, seed: 1, arch: s.arch, vocab: s.vocab, template: s.template, vocabSize: s.vocabSize,
            tiedEmbeddings: s.tiedEmbeddings, fastWeights: true
        });
        renameSync(tmp, f32);
    }
    const out = join(work, `${s.name}-${base}.gguf`);
    if (!existsSync(out)) {
        log(`quantizing to ${base}`);
        await engine.quantizeModel(f32, out, base as QuantizeType);
    }
    return out;
}

function usedBytes(engine: Engine): number | null {
    const d = engine.capabilities().devices[0];
    return d ? d.totalBytes - d.freeBytes : null;
}

export async function benchEngine(opts: {
    shape: BenchShape; base: string; work: string; seqLen: number; accum: number; rank: number; steps: number; warmup: number;
}): Promise<EngineBenchResult> {
    const { shape: s, seqLen, accum } = opts;
    const engine = await loadEngine();
    const caps = engine.capabilities();
    const backend = describeBackend(caps);
    log(backend.description);
    const path = await benchModel(engine, s, opts.base, opts.work);
    const before = usedBytes(engine);
    let peak = before;
    const sample = (): void => {
        const used = usedBytes(engine);
        if (used !== null && (peak === null || used > peak)) peak = used;
    };
    const model = await engine.loadModel(path, { nCtx: seqLen });
    const trainer = await model.createTrainer(
        { rank: opts.rank, alpha: 2 * opts.rank, dropout: 0, seed: 1 },
        { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, gradClip: 1, schedule: "constant", warmupSteps: 0, totalSteps: 1_000_000, gradAccum: accum }
    );
    try {
        let row = 0, loss = NaN;
        const optimizerStep = async (): Promise<void> => {
            for (let m = 0; m < accum; m++) {
                loss = (await trainer.step(packedRow(seqLen, model.info.nVocab, row++))).loss;
                sample();
            }
        };
        for (let i = 0; i < opts.warmup; i++) await optimizerStep(); // graph allocation, CUDA pool growth, page-in
        const t0 = performance.now();
        for (let i = 0; i < opts.steps; i++) await optimizerStep();
        const seconds = (performance.now() - t0) / 1000;
        const nodes = trainer.backendNodes();
        if (backend.kind === "cuda" && cpuNodeCount(nodes) > 0) log(`WARNING: ${cpuNodeCount(nodes)} graph nodes ran on the CPU: ${JSON.stringify(nodes.cpuOps)}`);
        const tokens = opts.steps * accum * seqLen;
        return {
            kind: "engine", shape: s.name, base: opts.base, backend: backend.description, device: caps.devices[0]?.name ?? null,
            seqLen, tokensPerOptimizerStep: accum * seqLen, optimizerSteps: opts.steps, seconds, tokensPerSecond: tokens / seconds,
            peakVramBytes: peak !== null && before !== null ? peak - before : null,
            matmulParams: matmulParams(s), flopsPerToken: flopsPerToken(s, seqLen),
            backendNodes: nodes.backends, cpuOps: nodes.cpuOps, finalLoss: loss
        };
    } finally {
        trainer.dispose();
        model.dispose();
    }
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            shape: { type: "string" }, work: { type: "string" }, base: { type: "string", default: "q4_k_m" }, seq: { type: "string", default: "512" },
            accum: { type: "string", default: "8" }, rank: { type: "string", default: "16" }, steps: { type: "string", default: "10" },
            warmup: { type: "string", default: "2" }, "dry-run": { type: "boolean", default: false }
        }
    });
    const named = BENCH_SHAPES[values.shape ?? ""];
    if (!named) throw new Error(`--shape must be one of ${Object.keys(BENCH_SHAPES).join(", ")}`);
    if (!values.work) throw new Error("--work DIR is required (models are cached there)");
    if (!["q4_0", "q4_k_m", "q8_0"].includes(values.base!)) throw new Error("--base must be q4_0, q4_k_m or q8_0");
    const dry = values["dry-run"]!;
    const shape = dry ? dryRunShape(named) : named;
    const int = (name: string, v: string | undefined): number => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
        return n;
    };
    const work = resolve(values.work);
    mkdirSync(work, { recursive: true });
    // the HF baseline reads the same shape (dry runs included, so the whole pipeline is exercised)
    const shapeFile = join(work, `${shape.name}.shape.json`);
    writeFileSync(`${shapeFile}.tmp-${process.pid}`, JSON.stringify({ ...shape, matmulParams: matmulParams(shape) }, null, 4) + "\n");
    renameSync(`${shapeFile}.tmp-${process.pid}`, shapeFile);
    const result = await benchEngine({
        shape, base: values.base!, work, seqLen: dry ? 64 : int("seq", values.seq), accum: dry ? 2 : int("accum", values.accum),
        rank: int("rank", values.rank), steps: dry ? 1 : int("steps", values.steps), warmup: dry ? 1 : int("warmup", values.warmup)
    });
    process.stdout.write(JSON.stringify(result) + "\n");
}

if (process.argv[1]?.endsWith("engineBench.mjs")) {
    main().catch((err: unknown) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    });
}
