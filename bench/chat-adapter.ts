// Benchmark of chat with a LoRA adapter against chat without it, through stock node-llama-cpp on the CPU:
// time to first token (prompt evaluation + first sample) and decode tokens/s, the same prompt and greedy
// decoding on one base model, one context with the adapter applied (as chat applies it) and one without.
//   npm run build && node out/bench/chat-adapter.mjs [--runs N] [--prompt-tokens N] [--decode-tokens N] [--threads N]
//                                                   [--model M.gguf --adapter A.gguf | --shape tiny|bench|wide --quant f32|q4_0 --rank R --modules attn_q,attn_v,…]
// Default: two models, each against its own base in the same run:
//   1. the embedded tiny model (4 layers, 256 wide, F32) with the facts adapter (test/oracle/trainedAdapter.ts;
//      trained on first use): the model the issue names;
//   2. "wide": two layers of Llama-3.2-1B's width (2048, FFN 8192, GQA 32/8) in Q4_0 with a random rank-16 adapter
//      on all seven modules: the quantized base users chat with, at a real model's width.
// --shape/--quant/--rank instead generate a random model of that shape and a random adapter of that rank on all
// seven modules or --modules (speed does not depend on the values), to see how the cost scales.
// Why the width matters: llama.cpp adds each LoRA as mul_mat(B, mul_mat(A, x)); B's inner dimension is the rank,
// and ggml's CPU kernels pay a fixed horizontal sum per output element there (about 4 ns at r = 16 on this bench's
// Xeon), whatever the rank. That cost scales with the outputs, the base's with outputs × width, so the ratio
// approaches 1 as the model widens; see docs/chat-performance.md.
// Runs alternate base/tuned and swap which goes first, so drift in the machine's load hits both;
// medians of ≥ 5 runs. Wall times and process CPU times are both reported: on a shared machine the wall time
// also measures other load. Goal (issue 5): tuned/base ≥ 0.9× on both numbers.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LlamaContext, LlamaModel, Token } from "node-llama-cpp";
import { f32Bytes, GgmlType, readGguf, writeGguf, type GgufTensorToWrite } from "../sidecar/src/gguf";
import { getCpuLlama } from "../sidecar/src/pipeline/llamaTokenizer";
import { makeTinyModel, type TinyModelQuant } from "../sidecar/src/tinyModel/makeTinyModel";
import { BENCH_SHAPE, DEFAULT_TINY_SHAPE, type TinyModelShape } from "../sidecar/src/tinyModel/shape";
import { BENCH_SHAPES } from "./gpu/shapes";
import { fixturePath, fixturesDir } from "../test/oracle/fixtures";
import { factsAdapter } from "../test/oracle/trainedAdapter";

interface Sample {
    ttftMs: number;
    ttftCpuMs: number;
    decodeTokensPerSecond: number;
    decodeCpuTokensPerSecond: number;
}

const ADAPTED = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];

/** A LoRA adapter of `rank` on every adapted weight of `modelPath`, small random values, as llama.cpp loads it. */
function writeRandomAdapter(modelPath: string, rank: number, modules: readonly string[], out: string): void {
    const model = readGguf(modelPath);
    let x = 12345;
    const random = (n: number): Uint8Array => f32Bytes(Float32Array.from({ length: n }, () => {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        return (x / 2 ** 32 - 0.5) * 0.02;
    }));
    const tensors: GgufTensorToWrite[] = [];
    for (const t of model.tensors) {
        if (!modules.some((m) => t.name.endsWith(`.${m}.weight`))) continue;
        const [nIn, nOut] = t.dims as [number, number];
        tensors.push({ name: `${t.name}.lora_a`, dims: [nIn, rank], type: GgmlType.F32, data: random(nIn * rank) });
        tensors.push({ name: `${t.name}.lora_b`, dims: [rank, nOut], type: GgmlType.F32, data: random(rank * nOut) });
    }
    writeGguf(out, {
        kv: [
            ["general.architecture", { type: "string", value: "llama" }],
            ["general.type", { type: "string", value: "adapter" }],
            ["adapter.type", { type: "string", value: "lora" }],
            ["adapter.lora.alpha", { type: "f32", value: 2 * rank }]
        ],
        tensors
    });
}

type ShapeName = "tiny" | "bench" | "wide";

/** Two layers of Llama-3.2-1B (its width, heads and FFN), with the tiny model's tokenizer: a real width, little disk. */
const WIDE_SHAPE: TinyModelShape = { ...BENCH_SHAPES["llama-3.2-1b"]!.shape, nLayer: 2, nCtx: DEFAULT_TINY_SHAPE.nCtx, ropeFreqBase: DEFAULT_TINY_SHAPE.ropeFreqBase };
const SHAPES: Record<ShapeName, TinyModelShape> = { tiny: DEFAULT_TINY_SHAPE, bench: BENCH_SHAPE, wide: WIDE_SHAPE };

/** A generated model of the named shape and quantization plus a random adapter of `rank`, cached under .cache/. */
function syntheticPair(shape: ShapeName, quant: TinyModelQuant, rank: number, modules: readonly string[]): { model: string; adapter: string } {
    const dir = join(fixturesDir(), "..", "bench");
    mkdirSync(dir, { recursive: true });
    const model = join(dir, `chat-${shape}-${quant}.gguf`);
    const which = modules.length === ADAPTED.length ? "" : `-${modules.join("+")}`;
    const adapter = join(dir, `chat-${shape}-${quant}-r${rank}${which}.lora.gguf`);
    if (!existsSync(model)) makeTinyModel({ out: model, quant, shape: SHAPES[shape] });
    if (!existsSync(adapter)) writeRandomAdapter(model, rank, modules, adapter);
    return { model, adapter };
}

/** The CPU features that decide ggml's kernels here (docs/chat-performance.md): AVX-512 blocks and AMX tiles. */
function vectorFeatures(): string {
    let flags: Set<string>;
    try {
        const info = readFileSync("/proc/cpuinfo", "utf8");
        flags = new Set((/^flags\s*:(.*)$/m.exec(info)?.[1] ?? "").trim().split(/\s+/));
    } catch {
        return "CPU flags unknown (no /proc/cpuinfo)";
    }
    const has = (flag: string): string => (flags.has(flag) ? "yes" : "no");
    return `AVX2 ${has("avx2")}, AVX-512 ${has("avx512f")}, AMX ${has("amx_int8")}`;
}

const median = (xs: readonly number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A deterministic prompt of exactly `n` tokens: plain English text, tokenized, repeated and cut. */
function promptTokens(model: LlamaModel, n: number): Token[] {
    const text = "The quick brown fox asked the librarian about the favorite color of Zorblat, and she answered at length. ";
    const unit = model.tokenize(text);
    const out: Token[] = [];
    if (model.tokens.bos !== null) out.push(model.tokens.bos);
    while (out.length < n) out.push(...unit);
    return out.slice(0, n);
}

const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
};

/** One measurement: a cleared sequence, the prompt, then `decode` greedy tokens (EOG does not stop it). */
async function measure(context: LlamaContext, prompt: Token[], decode: number): Promise<Sample> {
    const sequence = context.getSequence();
    try {
        const wall0 = performance.now();
        const cpu0 = cpuMs();
        let wallFirst = 0;
        let cpuFirst = 0;
        let count = 0;
        for await (const _token of sequence.evaluate(prompt, { temperature: 0 })) {
            count++;
            if (count === 1) {
                wallFirst = performance.now();
                cpuFirst = cpuMs();
            }
            if (count >= decode + 1) break;
        }
        const wallEnd = performance.now();
        const cpuEnd = cpuMs();
        return {
            ttftMs: wallFirst - wall0,
            ttftCpuMs: cpuFirst - cpu0,
            decodeTokensPerSecond: (1000 * decode) / (wallEnd - wallFirst),
            decodeCpuTokensPerSecond: (1000 * decode) / Math.max(1e-3, cpuEnd - cpuFirst)
        };
    } finally {
        sequence.dispose();
    }
}

interface Pair {
    label: string;
    model: string;
    adapter: string;
}

interface Summary {
    ttftMs: number;
    ttftCpuMs: number;
    decodeTokensPerSecond: number;
    decodeCpuTokensPerSecond: number;
}

interface Options {
    runs: number;
    nPrompt: number;
    nDecode: number;
    threads: number;
}

/** One model: base and tuned contexts on one load, interleaved runs, medians and tuned/base speed ratios. */
async function benchPair(pair: Pair, opts: Options) {
    const llama = await getCpuLlama();
    const model = await llama.loadModel({ modelPath: pair.model });
    const contextSize = Math.ceil((opts.nPrompt + opts.nDecode + 16) / 256) * 256;
    const common = { contextSize, batchSize: Math.min(512, contextSize), threads: opts.threads, sequences: 1 };
    const base = await model.createContext(common);
    const tuned = await model.createContext({ ...common, lora: { adapters: [{ filePath: pair.adapter, scale: 1 }] } });
    try {
        const prompt = promptTokens(model, opts.nPrompt);
        // One untimed warm-up each: page faults, thread pools, first-use allocations.
        await measure(base, prompt, 4);
        await measure(tuned, prompt, 4);
        const samples: { base: Sample[]; tuned: Sample[] } = { base: [], tuned: [] };
        for (let i = 0; i < opts.runs; i++) {
            const order: Array<"base" | "tuned"> = i % 2 === 0 ? ["base", "tuned"] : ["tuned", "base"];
            for (const side of order) samples[side].push(await measure(side === "base" ? base : tuned, prompt, opts.nDecode));
        }
        const summary = (side: "base" | "tuned"): Summary => ({
            ttftMs: median(samples[side].map((s) => s.ttftMs)),
            ttftCpuMs: median(samples[side].map((s) => s.ttftCpuMs)),
            decodeTokensPerSecond: median(samples[side].map((s) => s.decodeTokensPerSecond)),
            decodeCpuTokensPerSecond: median(samples[side].map((s) => s.decodeCpuTokensPerSecond))
        });
        const b = summary("base");
        const t = summary("tuned");
        const ratios = {
            // Speed ratios (tuned/base, higher is better): for time to first token that is base time / tuned time.
            ttft: b.ttftMs / t.ttftMs,
            ttftCpu: b.ttftCpuMs / t.ttftCpuMs,
            decode: t.decodeTokensPerSecond / b.decodeTokensPerSecond,
            decodeCpu: t.decodeCpuTokensPerSecond / b.decodeCpuTokensPerSecond
        };
        return { name: model.fileInfo.metadata.general.name ?? pair.model, base: b, tuned: t, ratios };
    } finally {
        await tuned.dispose();
        await base.dispose();
        await model.dispose();
    }
}

function report(pair: Pair, result: Awaited<ReturnType<typeof benchPair>>): void {
    const { base: b, tuned: t, ratios } = result;
    const fmt = (x: number, d = 1): string => x.toFixed(d).padStart(10);
    const goal = (r: number): string => (r >= 0.9 ? "ok" : "below 0.9× goal");
    console.log(`\n${pair.label}: ${result.name}`);
    console.log(`adapter: ${pair.adapter}`);
    console.log(`${"".padEnd(26)}${"base".padStart(10)}${"tuned".padStart(10)}${"ratio".padStart(10)}`);
    console.log(`${"TTFT ms (wall)".padEnd(26)}${fmt(b.ttftMs)}${fmt(t.ttftMs)}${fmt(ratios.ttft, 3)}  ${goal(ratios.ttft)}`);
    console.log(`${"TTFT ms (CPU)".padEnd(26)}${fmt(b.ttftCpuMs)}${fmt(t.ttftCpuMs)}${fmt(ratios.ttftCpu, 3)}  ${goal(ratios.ttftCpu)}`);
    console.log(`${"decode tok/s (wall)".padEnd(26)}${fmt(b.decodeTokensPerSecond)}${fmt(t.decodeTokensPerSecond)}${fmt(ratios.decode, 3)}  ${goal(ratios.decode)}`);
    console.log(`${"decode tok/s (CPU)".padEnd(26)}${fmt(b.decodeCpuTokensPerSecond)}${fmt(t.decodeCpuTokensPerSecond)}${fmt(ratios.decodeCpu, 3)}  ${goal(ratios.decodeCpu)}`);
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            runs: { type: "string", default: "7" },
            "prompt-tokens": { type: "string", default: "256" },
            "decode-tokens": { type: "string", default: "64" },
            threads: { type: "string", default: "1" },
            model: { type: "string" },
            adapter: { type: "string" },
            shape: { type: "string" },
            quant: { type: "string" },
            rank: { type: "string" },
            modules: { type: "string" }
        }
    });
    const opts: Options = {
        runs: Math.max(5, Number(values.runs)),
        nPrompt: Number(values["prompt-tokens"]),
        nDecode: Number(values["decode-tokens"]),
        threads: Number(values.threads)
    };
    const pairs: Pair[] = [];
    if (values.model !== undefined && values.adapter !== undefined) {
        pairs.push({ label: "given model", model: values.model, adapter: values.adapter });
    } else if (values.shape || values.quant || values.rank || values.modules) {
        const shape = (values.shape ?? "tiny") as ShapeName;
        if (!(shape in SHAPES)) throw new Error(`--shape: unknown ${shape} (use ${Object.keys(SHAPES).join(", ")})`);
        const modules = values.modules ? values.modules.split(",").map((m) => (m === "attn_o" ? "attn_output" : m)) : ADAPTED;
        const unknown = modules.filter((m) => !ADAPTED.includes(m));
        if (unknown.length > 0) throw new Error(`--modules: unknown ${unknown.join(", ")} (use ${ADAPTED.join(", ")})`);
        const quant = (values.quant ?? "f32") as TinyModelQuant;
        const rank = Number(values.rank ?? 16);
        pairs.push({ label: `${shape} ${quant}, random r${rank}`, ...syntheticPair(shape, quant, rank, modules) });
    } else {
        const facts = await factsAdapter();
        pairs.push({ label: "tiny model (F32) + facts adapter", model: fixturePath("tiny-f32.gguf"), adapter: facts.adapter });
        pairs.push({ label: "wide: 2 layers of Llama-3.2-1B width (Q4_0) + random r16", ...syntheticPair("wide", "q4_0", 16, ADAPTED) });
    }

    console.log(`chat-adapter bench: ${opts.runs} interleaved runs, ${opts.nPrompt}-token prompt, ${opts.nDecode} decoded tokens, ${opts.threads} thread(s)`);
    console.log(`machine: ${cpus()[0]?.model ?? "?"} × ${availableParallelism()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, node-llama-cpp CPU; ${vectorFeatures()}`);
    const results = [];
    for (const pair of pairs) {
        const result = await benchPair(pair, opts);
        report(pair, result);
        results.push({ label: pair.label, model: result.name, base: result.base, tuned: result.tuned, ratios: result.ratios });
    }
    console.log(JSON.stringify({ bench: "chat-adapter", runs: opts.runs, nPrompt: opts.nPrompt, nDecode: opts.nDecode, threads: opts.threads, results }));
}

await main();
