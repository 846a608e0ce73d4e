// One run, two implementations: our engine's LoRA step (bench/engine-step.ts, one child process per base:
// F32, Q4_0, Q4_K_M) against the PyTorch CPU reference (bench/torch_step.py: frozen F32 base, same
// shape, same tokens, same rank, same thread count). Prints tokens/s and peak RSS with engine/torch ratios.
//   npm run build && node out/bench/engine-vs-torch.mjs [--tokens N] [--steps N] [--threads N]
// Goal (issue 2): tokens/s ratio ≥ 1.0 on the Q4 bases. Both sides share the machine, so run it on an
// otherwise idle machine; the ratio, not the absolute figure, is the result.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { packageRoot } from "../sidecar/src/engine";
import { runTorchStepBench } from "../test/oracle/torchBench";
import { benchBatch, benchModels, type EngineStepBenchResult } from "./engine-step";

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { tokens: { type: "string" }, steps: { type: "string" }, threads: { type: "string" } } });
    const nTokens = Number(values.tokens ?? 176);
    const steps = Number(values.steps ?? 5);
    const threads = Number(values.threads ?? 2);
    const models = await benchModels();

    const batch = benchBatch(nTokens);
    const torch = await runTorchStepBench({
        model: models.f32,
        batch: { tokens: [...batch.tokens], positions: [...batch.positions], seqIds: [...batch.seqIds], labels: [...batch.labels] },
        rank: 8, alpha: 16, warmup: 1, steps, threads
    });

    const engineScript = join(packageRoot(), "out", "bench", "engine-step.mjs");
    const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
    console.log(`LoRA step, r=8 on all seven projections, ${nTokens} tokens, ${threads} threads, median of ${steps}`);
    console.log(`torch   ${torch.impl}, F32 base: ${torch.msPerStep.toFixed(0)} ms/step, ${torch.tokensPerSec.toFixed(0)} tokens/s, peak RSS ${mib(torch.peakRssBytes)}`);
    for (const [name, path] of Object.entries(models)) {
        const r = spawnSync(process.execPath, [engineScript, "--child", path, "--tokens", String(nTokens), "--steps", String(steps), "--threads", String(threads)], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"]
        });
        if (r.status !== 0) throw new Error(`engine bench child for ${name} failed (exit ${r.status})`);
        const e = JSON.parse(r.stdout.trim().split("\n").pop()!) as EngineStepBenchResult;
        console.log(`engine  ${name.padEnd(6)} ${(e.nParams / 1e6).toFixed(1)}M params: ${e.medianStepMs.toFixed(0)} ms/step, ${e.tokensPerSecond.toFixed(0)} tokens/s ` +
            `(${(e.tokensPerSecond / torch.tokensPerSec).toFixed(2)}× torch), peak RSS ${mib(e.peakRssBytes)} (${(e.peakRssBytes / torch.peakRssBytes).toFixed(2)}× torch)`);
    }
}

main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
});
