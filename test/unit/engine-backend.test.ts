// The start-up message about the compute path (issue 6): every combination of build, driver and device the
// addon can report, so the CPU-only CI machine covers the GPU branches too.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpuNodeCount, describeBackend, formatNodeCounts } from "../../sidecar/src/engine/backend";

const H100 = { name: "NVIDIA H100 80GB HBM3", freeBytes: 80e9, totalBytes: 85_520_000_000 };

describe("describeBackend", () => {
    test("names the GPU when CUDA is usable", () => {
        const b = describeBackend({ cuda: true, devices: [H100], cudaBuilt: true, nvidiaDriver: true });
        assert.equal(b.kind, "cuda");
        assert.match(b.description, /^CUDA via .*NVIDIA H100 80GB HBM3, 79\.6 GiB$/);
    });

    test("says which device trains when there are several", () => {
        const b = describeBackend({ cuda: true, devices: [H100, H100], cudaBuilt: true, nvidiaDriver: true });
        assert.match(b.description, /\+1 more, training uses the first/);
    });

    test("explains each CPU fallback", () => {
        assert.equal(describeBackend({ cuda: false, devices: [], cudaBuilt: false, nvidiaDriver: false }).description, "CPU: built without CUDA");
        assert.match(describeBackend({ cuda: false, devices: [], cudaBuilt: false, nvidiaDriver: true }).description, /^CPU: built without CUDA \(.*LORA_STUDIO_CUDA=1/);
        assert.match(describeBackend({ cuda: false, devices: [], cudaBuilt: true, nvidiaDriver: false }).description, /^CPU: no NVIDIA driver found/);
        assert.match(describeBackend({ cuda: false, devices: [], cudaBuilt: true, nvidiaDriver: true }).description, /^CPU: .*no usable GPU/);
        for (const nvidiaDriver of [false, true]) {
            assert.equal(describeBackend({ cuda: false, devices: [], cudaBuilt: nvidiaDriver, nvidiaDriver }).kind, "cpu");
        }
    });
});

describe("node count summaries", () => {
    test("list CPU fallbacks only beside a GPU backend", () => {
        const gpu = { backends: [{ name: "CUDA0", nodes: 900 }, { name: "CPU", nodes: 3 }], cpuOps: [{ op: "OUT_PROD(q4_K,f32)", nodes: 3 }] };
        assert.equal(cpuNodeCount(gpu), 3);
        assert.equal(formatNodeCounts(gpu), "graph nodes per backend: CUDA0 900, CPU 3; on the CPU: OUT_PROD(q4_K,f32) ×3");
        const cpu = { backends: [{ name: "CPU", nodes: 700 }], cpuOps: [{ op: "MUL_MAT(f32,f32)", nodes: 700 }] };
        assert.equal(formatNodeCounts(cpu), "graph nodes per backend: CPU 700");
        assert.equal(cpuNodeCount({ backends: [], cpuOps: [] }), 0);
    });
});
