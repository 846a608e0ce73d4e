// The PyTorch half of bench/engine-vs-torch.ts: runs bench/torch_step.py on the same model and micro-batch
// the engine is timed on, and returns its figures.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { llamaCppSourceDir } from "../../sidecar/src/tinyModel/bundleAssets";
import { PYTHON, repoRoot, type OracleBatch } from "./torchReference";

export interface TorchStepRequest {
    model: string;
    batch: OracleBatch;
    rank: number;
    alpha: number;
    warmup: number;
    steps: number;
    threads: number;
    /** Block tensors to adapt ("attn_q", "attn_qkv", …); default: every 2-D weight of the model's blocks. */
    targets?: string[];
    /** "tanh" (default): plain tanh GELU, as the engine computes it; "ggml": the fp16-table emulation of stock ggml. */
    gelu?: "tanh" | "ggml";
}

export interface TorchStepResult {
    impl: string;
    tokens: number;
    msPerStep: number;
    tokensPerSec: number;
    /** Peak RSS while training (reset after loading), unless peakRssIncludesLoad. */
    peakRssBytes: number;
    peakRssIncludesLoad: boolean;
    /** Whole-process peak, including the reader's copy of the memory-mapped GGUF. */
    loadPeakRssBytes: number;
    loss: number;
    stepTimesMs: number[];
    stepCpuMs: number[];
    /** The adapted weights (blk.N.<tensor>.weight), sorted. */
    adapterWeights: string[];
}

export async function runTorchStepBench(req: TorchStepRequest): Promise<TorchStepResult> {
    const dir = mkdtempSync(join(tmpdir(), "torch-step-"));
    try {
        const reqPath = join(dir, "request.json");
        writeFileSync(reqPath, JSON.stringify(req));
        const env = {
            ...process.env,
            PYTHONPATH: join(llamaCppSourceDir(), "gguf-py"),
            OMP_NUM_THREADS: String(req.threads),
            OPENBLAS_NUM_THREADS: String(req.threads)
        };
        const child = spawn(PYTHON, [join(repoRoot(), "bench", "torch_step.py"), reqPath], { env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
        child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
        const code = await new Promise<number | null>((resolve, reject) => {
            child.on("error", reject);
            child.on("close", resolve);
        });
        if (code !== 0) throw new Error(`bench/torch_step.py failed (exit ${code}): ${stderr.trim()}`);
        const last = stdout.trim().split("\n").pop() ?? "";
        return JSON.parse(last) as TorchStepResult;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
