// Runs the PyTorch reference (torch_reference.py) with Debian's python3 and the bundle's gguf-py.
import type { OptimizerOptions } from "../../sidecar/src/engine/types";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { llamaCppSourceDir } from "../../sidecar/src/tinyModel/bundleAssets";

export interface OracleBatch {
    tokens: number[];
    positions: number[];
    seqIds: number[];
    labels: number[];
}

/** The reference implements the engine's optimizer semantics, so it takes the engine's options unchanged. */
export type OracleOptimizer = OptimizerOptions;

export interface OracleRequest {
    model: string;
    adapter?: string;
    batches: OracleBatch[];
    mode: "logits" | "grads" | "train";
    optimizer?: OracleOptimizer;
    steps?: number;
    /** Ignore sliding windows (attend causally on every layer): the deliberately wrong mask of negative tests. */
    causalOnly?: boolean;
    /** "ggml" (default): GELU through ggml-cpu's fp16 table, as llama.cpp computes it; "tanh": the exact formula. */
    gelu?: "ggml" | "tanh";
    /** Mode "logits": return only these rows of each batch (a 262k vocabulary makes a full row set large). */
    logitRows?: number[];
}

export interface OracleTensor {
    shape: number[];
    data: number[];
}

export interface OracleResult {
    mode: string;
    logits?: number[][];
    loss?: number;
    grads?: Record<string, OracleTensor>;
    curve?: { loss: number; gradNorm: number; lr: number }[];
}

/** The repository root, found from this file's bundled location (out/test/...) or its source (test/oracle). */
export function repoRoot(): string {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (dir !== dirname(dir)) {
        if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "test", "oracle", "torch_reference.py"))) return dir;
        dir = dirname(dir);
    }
    throw new Error("torch reference: cannot find the repository root above " + fileURLToPath(import.meta.url));
}

export const PYTHON = process.env.LORA_STUDIO_PYTHON ?? "/usr/bin/python3";

/** Runs one request; rejects with the script's stderr when it fails. */
export async function runTorchReference(req: OracleRequest): Promise<OracleResult> {
    const dir = mkdtempSync(join(tmpdir(), "torch-ref-"));
    try {
        const reqPath = join(dir, "request.json");
        const outPath = join(dir, "result.json");
        writeFileSync(reqPath, JSON.stringify(req));
        const script = join(repoRoot(), "test", "oracle", "torch_reference.py");
        const env = { ...process.env, PYTHONPATH: join(llamaCppSourceDir(), "gguf-py"), OMP_NUM_THREADS: "2" };
        const child = spawn(PYTHON, [script, reqPath, "--out", outPath], { env, stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
        const code = await new Promise<number | null>((resolve, reject) => {
            child.on("error", reject);
            child.on("close", resolve);
        });
        if (code !== 0) throw new Error(`torch reference failed (exit ${code}): ${stderr.trim()}`);
        return JSON.parse(readFileSync(outPath, "utf8")) as OracleResult;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
