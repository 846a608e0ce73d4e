// Summary of one GPU benchmark run (bench/gpu/run.sh): reads the JSON result lines the engine benchmark and the HF
// baseline printed (results.jsonl), and prints per shape the engine's and HF PEFT's tokens/s, peak VRAM and MFU,
// and the engine/HF ratios against the goal of issue 6 (>= 1.0x tokens/s at <= 0.5x peak VRAM).
//   node out/bench/gpu/report.mjs RESULTS.jsonl > summary.md
// MFU = tokens/s x flopsPerToken (bench/gpu/shapes.ts: 4·N + attention) / the bf16 matmul peak measured in the run.
import { readFileSync } from "node:fs";

interface EngineLine { kind: "engine"; shape: string; base: string; backend: string; device: string | null; tokensPerSecond: number; peakVramBytes: number | null; flopsPerToken: number; tokensPerOptimizerStep: number; backendNodes: { name: string; nodes: number }[] }
interface HfLine { kind: "hf-peft"; shape: string; microBatch: number; tokensPerSecond: number; peakVramReservedBytes: number; peakVramAllocatedBytes: number; tokensPerOptimizerStep: number; dryRun?: boolean }
interface PeakLine { kind: "peak"; device?: string; bf16Flops?: number; dryRun?: boolean }
type Line = EngineLine | HfLine | PeakLine;

const gib = (b: number | null | undefined): string => (b === null || b === undefined ? "n/a" : `${(b / 2 ** 30).toFixed(2)} GiB`);
const pct = (x: number | null): string => (x === null ? "n/a" : `${(100 * x).toFixed(1)}%`);

export function summarize(lines: Line[]): string {
    const peak = lines.find((l): l is PeakLine => l.kind === "peak" && typeof l.bf16Flops === "number");
    const engines = lines.filter((l): l is EngineLine => l.kind === "engine");
    const hfs = lines.filter((l): l is HfLine => l.kind === "hf-peft" && !l.dryRun);
    const out: string[] = [];
    out.push(`# GPU benchmark: LoRA r=16 on all seven projections, seq 512, packed`, "");
    out.push(`bf16 matmul peak measured: ${peak?.bf16Flops ? `${(peak.bf16Flops / 1e12).toFixed(0)} TFLOP/s on ${peak.device}` : "n/a"}`, "");
    out.push("| shape | run | tokens/step | tokens/s | peak VRAM | MFU | vs HF best tokens/s | vs HF VRAM |", "|---|---|---|---|---|---|---|---|");
    for (const shape of [...new Set(engines.map((e) => e.shape))]) {
        const flops = engines.find((e) => e.shape === shape)!.flopsPerToken;
        const mfu = (tps: number): number | null => (peak?.bf16Flops ? (tps * flops) / peak.bf16Flops : null);
        const hf = hfs.filter((h) => h.shape === shape);
        const best = hf.length ? hf.reduce((a, b) => (b.tokensPerSecond > a.tokensPerSecond ? b : a)) : undefined;
        for (const h of hf) {
            out.push(`| ${shape} | HF+PEFT bf16, micro-batch ${h.microBatch} | ${h.tokensPerOptimizerStep} | ${h.tokensPerSecond.toFixed(0)} | ${gib(h.peakVramReservedBytes)} reserved (${gib(h.peakVramAllocatedBytes)} allocated) | ${pct(mfu(h.tokensPerSecond))} | | |`);
        }
        for (const e of engines.filter((x) => x.shape === shape)) {
            const speed = best ? `${(e.tokensPerSecond / best.tokensPerSecond).toFixed(2)}x` : "n/a";
            const vram = best && e.peakVramBytes !== null ? `${(e.peakVramBytes / best.peakVramReservedBytes).toFixed(2)}x` : "n/a";
            out.push(`| ${shape} | engine ${e.base} | ${e.tokensPerOptimizerStep} | ${e.tokensPerSecond.toFixed(0)} | ${gib(e.peakVramBytes)} | ${pct(mfu(e.tokensPerSecond))} | ${speed} | ${vram} |`);
        }
    }
    out.push("", "Goal (issue 6): >= 1.00x HF PEFT bf16 tokens/s at <= 0.50x its peak VRAM (reserved).");
    for (const e of engines) out.push(`- ${e.shape} ${e.base}: ${e.backend}; graph nodes ${e.backendNodes.map((b) => `${b.name} ${b.nodes}`).join(", ")}`);
    return out.join("\n") + "\n";
}

function main(): void {
    const file = process.argv[2];
    if (!file) throw new Error("usage: node out/bench/gpu/report.mjs RESULTS.jsonl");
    const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.trim().startsWith("{")).map((l, i) => {
        try {
            return JSON.parse(l) as Line;
        } catch {
            throw new Error(`${file}: line ${i + 1} is not JSON`);
        }
    });
    process.stdout.write(summarize(lines));
}

if (process.argv[1]?.endsWith("report.mjs")) {
    try {
        main();
    } catch (err) {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    }
}
