// Calibration of the pre-flight memory estimate (sidecar/src/training/memoryEstimate.ts) against the engine: the
// peak RSS of one LoRA training step (bench/engine-step.ts, each in its own child process) next to the estimate for
// the same model, rank and row length, on the CPU.
//   npm run build && node out/bench/memory-estimate.mjs [--threads N]
// Prints, per point, measured and estimated MiB and their ratio; the summary is the largest |error|.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ALL_TARGET_MODULES } from "../sidecar/src/engine/types";
import { packageRoot } from "../sidecar/src/engine";
import { estimateTrainingMemory, readModelShape } from "../sidecar/src/training/memoryEstimate";
import { makeTinyModel } from "../sidecar/src/tinyModel/makeTinyModel";
import { BENCH_SHAPE } from "../sidecar/src/tinyModel/shape";
import { benchModels, type EngineStepBenchResult } from "./engine-step";

/** The rank bench/engine-step.ts trains with. */
const BENCH_RANK = 8;

/** A wider Q4_0 model (8×1024, 160M parameters) whose layer weights outweigh the logits, cached under .cache/bench/. */
function wideModel(): string {
    const path = join(packageRoot(), ".cache", "bench", "wide-q4_0.gguf");
    if (!existsSync(path)) makeTinyModel({ out: path, quant: "q4_0", shape: { ...BENCH_SHAPE, nEmbd: 1024, nFf: 2816 }, seed: 1 });
    return path;
}

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { threads: { type: "string" } } });
    const threads = values.threads ?? "2";
    const models = await benchModels();
    const tiny = join(packageRoot(), ".cache", "fixtures");
    const points: Array<[string, number]> = [
        [join(tiny, "tiny-f32.gguf"), 64], [join(tiny, "tiny-f32.gguf"), 256], [join(tiny, "tiny-q4_0.gguf"), 64],
        [models.f32, 64], [models.q4_0, 64], [models.q4_0, 256], [models.q4_0, 1024], [wideModel(), 64], [wideModel(), 256]
    ];
    const stepScript = join(packageRoot(), "out", "bench", "engine-step.mjs");
    let worst = 0;
    console.log("model                     rows   measured MiB  estimate MiB  estimate/measured");
    for (const [model, tokens] of points) {
        const r = spawnSync(process.execPath, [stepScript, "--child", model, "--tokens", String(tokens), "--steps", "1", "--threads", threads], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
        if (r.status !== 0) throw new Error(`engine-step child for ${model} failed (${r.status}); run tests/fixtures first (npm test makes .cache/fixtures)`);
        const measured = (JSON.parse(r.stdout.trim().split("\n").pop()!) as EngineStepBenchResult).peakRssBytes;
        const estimate = estimateTrainingMemory(readModelShape(model), { rank: BENCH_RANK, targetModules: ALL_TARGET_MODULES, sequenceLength: tokens, quantizeBase: "none" }).totalBytes;
        const ratio = estimate / measured;
        worst = Math.max(worst, Math.abs(ratio - 1));
        const name = model.split(/[\\/]/).pop()!;
        console.log(`${name.padEnd(25)} ${String(tokens).padStart(5)}  ${(measured / 2 ** 20).toFixed(0).padStart(12)}  ${(estimate / 2 ** 20).toFixed(0).padStart(12)}  ${ratio.toFixed(3).padStart(17)}`);
    }
    console.log(`largest error: ${(worst * 100).toFixed(1)} %`);
}

main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
});
