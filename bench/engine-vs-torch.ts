// One run, two implementations, per architecture: our engine's LoRA step (bench/engine-step.ts's benchEngineStep, in
// a child process of this script per base: F32, Q4_0, Q4_K_M, so peak RSS is that base's alone) against the PyTorch CPU reference
// (bench/torch_step.py: frozen F32 base, same tokens, LoRA on the same weights, same rank, AdamW, same threads).
//   npm run build && node out/bench/engine-vs-torch.mjs [--arch llama|qwen2|…|all] [--steps 5] [--tokens 176]
//                                                       [--threads 2] [--rank 8] [--rounds 2] [--fresh]
// Every family is BENCH_SHAPE (8 layers, width 512, 8 heads / 4 KV, FFN 1536) with its own tokenizer, so the
// vocabulary (32k to 262k rows) is the family's; LoRA goes on every projection the family has (Phi-3's fused
// attn_qkv and ffn_up included), and the run fails if the two sides adapt different weights.
// Rounds alternate the order (torch, f32, q4_0, q4_k_m, then the reverse) so that a change in the machine's load
// falls on both sides; medians are over every timed step of every round. Goal (issue 11): tokens/s ratio ≥ 1.0 on
// each family. The ratio, not the absolute figure, is the result.
import { spawnSync } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { ARCHITECTURES, TRAINABLE_ARCHITECTURES, isTrainableArch, type TrainableArch } from "../sidecar/src/engine/architectures";
import { runTorchStepBench, type TorchStepResult } from "../test/oracle/torchBench";
import { BENCH_BASES, benchBatch, benchEngineStep, benchModels, type BenchBase, type EngineStepBenchResult } from "./engine-step";

interface Options {
    /** Set in the child process: the model whose engine step to time. */
    child: string | undefined;
    archs: TrainableArch[];
    nTokens: number;
    steps: number;
    threads: number;
    rank: number;
    rounds: number;
    fresh: boolean;
}

/** The pooled figures of one side (torch or one engine base) over all rounds. */
interface Side {
    stepTimesMs: number[];
    stepCpuMs: number[];
    peakRssBytes: number[];
}

interface ArchResult {
    arch: TrainableArch;
    nVocab: number;
    targets: string[];
    torch: Side;
    engine: Record<BenchBase, Side>;
}

const ALPHA = 16;
const WARMUP_STEPS = 1;

function intOption(values: Record<string, string | boolean | undefined>, name: string, fallback: number, min: number, max: number): number {
    const raw = values[name];
    const n = typeof raw === "string" ? Number(raw) : fallback;
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${String(raw)}`);
    return n;
}

function parseOptions(): Options {
    const str = { type: "string" } as const;
    const { values } = parseArgs({
        options: { child: str, arch: str, tokens: str, steps: str, threads: str, rank: str, rounds: str, fresh: { type: "boolean" } }
    });
    const arch = values.arch ?? "llama";
    if (arch !== "all" && !isTrainableArch(arch)) throw new Error(`--arch must be one of ${TRAINABLE_ARCHITECTURES.join(", ")} or all, got '${arch}'`);
    return {
        child: values.child,
        archs: arch === "all" ? [...TRAINABLE_ARCHITECTURES] : [arch],
        nTokens: intOption(values, "tokens", 176, 2, 2048),
        steps: intOption(values, "steps", 5, 1, 1000),
        threads: intOption(values, "threads", 2, 1, 256),
        rank: intOption(values, "rank", 8, 1, 512),
        rounds: intOption(values, "rounds", 2, 1, 100),
        fresh: values.fresh ?? false
    };
}

/** The GGUF block tensors the engine adapts on this family with all seven targets: Phi-3's fused ones once each. */
function targetTensors(arch: TrainableArch): string[] {
    return [...new Set(Object.values(ARCHITECTURES[arch].targetTensors))];
}

/** This very script with --child, so that a copy of the bundle elsewhere benchmarks itself and no other file. */
function runEngineChild(path: string, o: Options): EngineStepBenchResult {
    const args = [process.argv[1]!, "--child", path, "--tokens", String(o.nTokens), "--steps", String(o.steps), "--threads", String(o.threads), "--rank", String(o.rank)];
    const r = spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 2 ** 20 });
    if (r.status !== 0) throw new Error(`engine bench child for ${path} failed (exit ${r.status}, signal ${r.signal})`);
    const last = r.stdout.trim().split("\n").pop() ?? "";
    if (!last.startsWith("{")) throw new Error(`engine bench child for ${path} exited 0 without a result (stdout: '${r.stdout.trim().slice(-200)}')`);
    return JSON.parse(last) as EngineStepBenchResult;
}

function sameWeights(arch: string, engine: readonly string[], torch: readonly string[]): void {
    const a = engine.join(","), b = torch.join(",");
    if (a !== b) throw new Error(`${arch}: the engine adapts ${engine.length} weights and the reference ${torch.length}; they must be the same set`);
}

async function benchArch(arch: TrainableArch, o: Options): Promise<ArchResult> {
    const models = await benchModels(arch, { fresh: o.fresh });
    const targets = targetTensors(arch);
    const batch = benchBatch(o.nTokens);
    const side = (): Side => ({ stepTimesMs: [], stepCpuMs: [], peakRssBytes: [] });
    const res: ArchResult = { arch, nVocab: 0, targets, torch: side(), engine: { f32: side(), q4_0: side(), q4_k_m: side() } };
    let torchWeights: string[] | undefined;
    let engineWeights: string[] | undefined;
    const add = (s: Side, times: number[], cpu: number[], rss: number): void => {
        s.stepTimesMs.push(...times);
        s.stepCpuMs.push(...cpu);
        s.peakRssBytes.push(rss);
    };
    const order: ("torch" | BenchBase)[] = ["torch", ...BENCH_BASES];
    for (let round = 0; round < o.rounds; round++) {
        for (const who of round % 2 === 0 ? order : [...order].reverse()) {
            if (who === "torch") {
                const t: TorchStepResult = await runTorchStepBench({
                    model: models.f32,
                    batch: { tokens: [...batch.tokens], positions: [...batch.positions], seqIds: [...batch.seqIds], labels: [...batch.labels] },
                    rank: o.rank, alpha: ALPHA, warmup: WARMUP_STEPS, steps: o.steps, threads: o.threads, targets, gelu: "tanh"
                });
                if (t.peakRssIncludesLoad) console.error("note: torch's peak RSS includes loading (/proc/self/clear_refs not writable)");
                add(res.torch, t.stepTimesMs, t.stepCpuMs, t.peakRssBytes);
                torchWeights = t.adapterWeights;
            } else {
                const e = runEngineChild(models[who], o);
                add(res.engine[who], e.stepTimesMs, e.stepCpuMs, e.peakRssBytes);
                res.nVocab = e.nVocab;
                if (engineWeights && engineWeights.join(",") !== e.adapterWeights.join(",")) throw new Error(`${arch}: bases adapt different weights`);
                engineWeights = e.adapterWeights;
            }
            if (torchWeights && engineWeights) sameWeights(arch, engineWeights, torchWeights);
        }
    }
    return res;
}

const median = (xs: readonly number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mib = (b: number): string => (b / 2 ** 20).toFixed(0);

function printArch(r: ArchResult, o: Options): void {
    const torchMs = median(r.torch.stepTimesMs);
    const torchRss = Math.max(...r.torch.peakRssBytes);
    const row = (name: string, s: Side): string => {
        const ms = median(s.stepTimesMs);
        const rss = Math.max(...s.peakRssBytes);
        const cells = [r.arch, `${(r.nVocab / 1000).toFixed(0)}k`, name, ms.toFixed(0), ((o.nTokens * 1000) / ms).toFixed(0), (torchMs / ms).toFixed(2),
            median(s.stepCpuMs).toFixed(0), mib(rss), (rss / torchRss).toFixed(2)];
        return `| ${cells.join(" | ")} |`;
    };
    console.log(row("torch F32", r.torch));
    for (const base of BENCH_BASES) console.log(row(`engine ${base.toUpperCase()}`, r.engine[base]));
}

function machineLine(): string {
    let flags = new Set<string>();
    try {
        flags = new Set((/^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "").trim().split(/\s+/));
    } catch { /* not Linux: flags unknown */ }
    const has = (f: string): string => (flags.has(f) ? "yes" : "no");
    return `${cpus()[0]?.model ?? "unknown CPU"} × ${availableParallelism()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, AVX2 ${has("avx2")}, AVX-512 ${has("avx512f")}, node ${process.version}`;
}

/**
 * Debian's python3-torch multiplies through the libblas.so.3 alternative: the reference BLAS makes torch ~30× slower
 * and every ratio meaningless, so the bench refuses to run on it.
 */
function checkBlas(): string {
    const lib = "/usr/lib/x86_64-linux-gnu/libblas.so.3";
    let target: string;
    try {
        target = realpathSync(lib);
    } catch {
        return "BLAS: unknown (no Debian libblas.so.3 alternative)";
    }
    if (!/openblas|mkl|blis/i.test(target)) {
        throw new Error(`${lib} resolves to ${target}, the reference BLAS: PyTorch would be ~30× slower. Install libopenblas0-pthread.`);
    }
    return `BLAS: ${target}`;
}

async function main(): Promise<void> {
    const o = parseOptions();
    if (o.child !== undefined) {
        // Node exits 0 when its event loop empties under a promise the engine never settles: say so instead.
        let done = false;
        process.on("exit", (code) => {
            if (!done && code === 0) {
                process.stderr.write(`engine bench child: ${o.child} exited with the step unfinished (an engine promise that never settled)\n`);
                process.exitCode = 3;
            }
        });
        const r = await benchEngineStep({ modelPath: o.child, nTokens: o.nTokens, steps: o.steps, threads: o.threads, rank: o.rank });
        process.stdout.write(JSON.stringify(r) + "\n");
        done = true;
        return;
    }
    const blas = checkBlas();
    const loadAt = (): string => loadavg().map((l) => l.toFixed(2)).join(" ");
    console.log(`machine: ${machineLine()}; ${blas}`);
    console.log(`command: node out/bench/engine-vs-torch.mjs ${process.argv.slice(2).join(" ")}`.trimEnd());
    console.log(`LoRA step: r=${o.rank} (alpha ${ALPHA}) on every projection of each family, AdamW, ${o.nTokens} tokens, ${o.threads} threads; ` +
        `${WARMUP_STEPS} warm-up + ${o.steps} timed steps per process, ${o.rounds} round(s) alternating order; medians over all timed steps`);
    console.log(`load average at start: ${loadAt()}\n`);
    console.log("| arch | vocab | side | ms/step | tokens/s | tokens/s × torch | CPU ms/step | peak RSS MiB | RSS × torch |");
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    const results: ArchResult[] = [];
    const failures: string[] = [];
    for (const arch of o.archs) {
        // One family's failure is reported and the others still run: a crash is a result too.
        try {
            const r = await benchArch(arch, o);
            printArch(r, o);
            results.push(r);
        } catch (err) {
            console.error(err);
            failures.push(`${arch}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
        }
    }
    console.log(`\nload average at end: ${loadAt()}`);
    for (const r of results) {
        const torchMs = median(r.torch.stepTimesMs);
        const misses = BENCH_BASES.filter((b) => torchMs / median(r.engine[b].stepTimesMs) < 1);
        console.log(`${r.arch.padEnd(9)} targets ${r.targets.join(", ")}: ${misses.length === 0 ? "≥ 1.0× torch on every base" : `below 1.0× torch on ${misses.join(", ")}`}`);
    }
    for (const f of failures) console.log(`FAILED ${f}`);
    if (failures.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
});
