// Which compute path trains, and why, in words for the start-up message (issue 6: "the extension tells the user
// at start-up which path is active and why"), and the node placement of a training graph in one log line.
// Pure functions over what the addon reports, so every branch is unit-testable on a machine without a GPU.
import type { BackendNodeCounts, Capabilities } from "./types";

export interface TrainingBackend {
    kind: "cuda" | "cpu";
    /** One sentence: "CUDA via …" or "CPU: <why not CUDA>". */
    description: string;
}

const GIB = 1024 ** 3;

export function describeBackend(caps: Pick<Capabilities, "cuda" | "devices" | "cudaBuilt" | "nvidiaDriver">): TrainingBackend {
    if (caps.cuda && caps.devices.length > 0) {
        const first = caps.devices[0]!;
        const more = caps.devices.length > 1 ? ` (+${caps.devices.length - 1} more, training uses the first)` : "";
        return {
            kind: "cuda",
            description: `CUDA via the engine's CUDA build on ${first.name}, ${(first.totalBytes / GIB).toFixed(1)} GiB${more}`
        };
    }
    if (!caps.cudaBuilt) {
        return {
            kind: "cpu",
            description: caps.nvidiaDriver
                ? "CPU: built without CUDA (an NVIDIA driver is present; build the engine with LORA_STUDIO_CUDA=1 to train on the GPU)"
                : "CPU: built without CUDA"
        };
    }
    if (!caps.nvidiaDriver) {
        return { kind: "cpu", description: "CPU: no NVIDIA driver found (libcuda.so.1 cannot be loaded); install the NVIDIA driver to train on the GPU" };
    }
    return { kind: "cpu", description: "CPU: the NVIDIA driver is present but CUDA reports no usable GPU (check nvidia-smi)" };
}

/** Nodes the scheduler put on the CPU backend. */
export function cpuNodeCount(counts: BackendNodeCounts): number {
    return counts.backends.filter((b) => b.name === "CPU").reduce((sum, b) => sum + b.nodes, 0);
}

/** "graph nodes per backend: CUDA0 1843, CPU 0" plus, when a GPU backend is present, the CPU fallbacks by op. */
export function formatNodeCounts(counts: BackendNodeCounts): string {
    const perBackend = counts.backends.map((b) => `${b.name} ${b.nodes}`).join(", ");
    const hasGpu = counts.backends.some((b) => b.name !== "CPU");
    const fallbacks = hasGpu && counts.cpuOps.length > 0 ? `; on the CPU: ${counts.cpuOps.map((o) => `${o.op} ×${o.nodes}`).join(", ")}` : "";
    return `graph nodes per backend: ${perBackend}${fallbacks}`;
}
