// The default CPU thread count for answering (chat, eval, the @lora participant, `lora-studio chat|eval`): never
// more than the physical cores, and one thread for small models. Measured (bench/eval-threads.ts, numbers in
// docs/reliability.md#threads): ggml's threads meet at a spinning barrier after every op, so when an op's work is
// small (a small model) the barriers cost more than the extra threads save, and oversubscribing the cores (node-llama-
// cpp's own default is 4 threads on a 2-core machine) made `lora-studio eval` of 24 facts take 155 s instead of 3 s.
// Hyperthreads share a core's vector units, so they add barrier waits without adding matmul throughput.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/**
 * Below this many weight elements touched per generated token (all tensors but the token embedding, which is a row
 * lookup), one thread answers fastest. Measured with bench/eval-threads.ts on the 2-core development machine: one
 * thread decoded faster than two at every size measured, 11 M (the embedded tiny model), 42 M (F32 and Q4_0) and
 * 187 M (two layers of Llama-3.2-1B's width, Q4_0), by 3× to 18× on a busy machine; the figures are in
 * docs/reliability.md#threads. The threshold sits above the largest size measured; larger models use every core.
 */
export const SINGLE_THREAD_BELOW_WEIGHTS = 256_000_000;

let physicalCores: number | undefined;

/** Distinct (package, core) pairs in /proc/cpuinfo; the logical CPU count where that is not available. */
export function physicalCoreCount(cpuinfo?: string): number {
    if (cpuinfo === undefined && physicalCores !== undefined) return physicalCores;
    const logical = availableParallelism();
    let text = cpuinfo;
    if (text === undefined) {
        try {
            text = readFileSync("/proc/cpuinfo", "utf8");
        } catch {
            text = "";
        }
    }
    const cores = new Set<string>();
    let pkg = "0";
    for (const line of text.split("\n")) {
        const m = /^(physical id|core id)\s*:\s*(\d+)/.exec(line);
        if (!m) continue;
        if (m[1] === "physical id") pkg = m[2]!;
        else cores.add(`${pkg}:${m[2]}`);
    }
    // Containers may see fewer CPUs than /proc/cpuinfo lists (a cgroup quota): never count more than we may use.
    const count = cores.size > 0 ? Math.min(cores.size, logical) : logical;
    if (cpuinfo === undefined) physicalCores = count;
    return Math.max(1, count);
}

/**
 * Threads for answering with a model that touches `weightsPerToken` weight elements per generated token: 1 below
 * SINGLE_THREAD_BELOW_WEIGHTS, else every physical core. `explicit` (a setting or a flag) wins when it is > 0.
 */
export function defaultInferenceThreads(weightsPerToken: number, explicit?: number, cores = physicalCoreCount()): number {
    if (explicit !== undefined && explicit > 0) return explicit;
    if (weightsPerToken < SINGLE_THREAD_BELOW_WEIGHTS) return 1;
    return Math.max(1, cores);
}

/** Weight elements touched per token, from a GGUF tensor table: every tensor but token_embd (a row lookup). */
export function weightsPerToken(tensors: ReadonlyArray<{ name: string; dims: readonly number[] }>): number {
    let total = 0;
    for (const t of tensors) {
        if (t.name === "token_embd.weight") continue;
        total += t.dims.reduce((a, b) => a * b, 1);
    }
    // A model that ties its output to the embedding multiplies by the embedding for every token.
    if (!tensors.some((t) => t.name === "output.weight")) {
        const embd = tensors.find((t) => t.name === "token_embd.weight");
        if (embd) total += embd.dims.reduce((a, b) => a * b, 1);
    }
    return total;
}
