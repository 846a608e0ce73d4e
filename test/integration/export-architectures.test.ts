// Export for every architecture the engine trains, on small bases and adapters written with the project's GGUF
// writer (test/unit/support/archModels.ts), so no engine build is needed:
// - the Hugging Face names of engine/architectures.ts are what llama.cpp's own converter maps back to the GGUF
//   tensors (test/oracle/hf_names.py, through gguf-py's TensorNameMap);
// - a PEFT export names each module as its family does (Phi-3's fused qkv_proj and gate_up_proj whole, Mistral 3's
//   text layers under model.language_model), copies A exactly and B exactly or with its q/k rows back in Hugging
//   Face order, only where the converter permuted them (read back here by hand from the safetensors bytes);
// - a merged GGUF folds fused adapters into fused weights: W + (alpha/rank)·B·A, computed here in float64.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARCHITECTURES, TRAINABLE_ARCHITECTURES } from "../../sidecar/src/engine/architectures";
import { runExport } from "../../sidecar/src/export";
import { readGguf, readTensorF32 } from "../../sidecar/src/gguf";
import { llamaCppSourceDir } from "../../sidecar/src/tinyModel/bundleAssets";
import { PYTHON, repoRoot } from "../oracle/torchReference";
import { projectionWeights, SMALL_SHAPE, writeArchAdapter, writeArchBase } from "../unit/support/archModels";

const dir = mkdtempSync(join(tmpdir(), "export-arch-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const pythonMissing = spawnSync(PYTHON, ["-c", "import numpy"]).status !== 0;
const pythonSkip: string | false = pythonMissing && !process.env.CI ? "python3 with numpy is not installed: cannot run gguf-py's name map" : false;

test("each architecture's Hugging Face names convert back to its GGUF tensors with llama.cpp's own name map", { skip: pythonSkip }, () => {
    const specs = TRAINABLE_ARCHITECTURES.map((arch) => ({ arch, layerPath: ARCHITECTURES[arch].hfLayerPath ?? "model.layers", modules: ARCHITECTURES[arch].hfModules }));
    const r = spawnSync(PYTHON, [join(repoRoot(), "test", "oracle", "hf_names.py")], {
        input: JSON.stringify(specs), encoding: "utf8", env: { ...process.env, GGUF_PY: join(llamaCppSourceDir(), "gguf-py") }
    });
    assert.equal(r.status, 0, `hf_names.py failed:\n${r.stderr}`);
    const result = JSON.parse(r.stdout) as { checked: number; problems: string[] };
    assert.deepEqual(result.problems, []);
    assert.equal(result.checked, TRAINABLE_ARCHITECTURES.reduce((n, a) => n + Object.keys(ARCHITECTURES[a].hfModules).length, 0));
});

/** safetensors read by hand: 8-byte header length, JSON header, little-endian data (F32 only here). */
function readSafetensors(path: string): Map<string, { shape: number[]; data: Float32Array }> {
    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8")) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, t] of Object.entries(header)) {
        if (name === "__metadata__") continue;
        assert.equal(t.dtype, "F32", name);
        const raw = bytes.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
        out.set(name, { shape: t.shape, data: new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) });
    }
    return out;
}

/** convert_hf_to_gguf.py's LlamaModel.permute on the rows of a row-major [rows, cols] matrix (HF order → GGUF order). */
function permuteRows(m: Float32Array, rows: number, cols: number, nHead: number): Float32Array {
    const d = rows / nHead;
    const out = new Float32Array(m.length);
    // reshape(n_head, 2, d/2, cols).swapaxes(1, 2): GGUF row h·d + 2i + j is HF row h·d + j·(d/2) + i.
    for (let h = 0; h < nHead; h++) for (let i = 0; i < d / 2; i++) for (let j = 0; j < 2; j++) {
        out.set(m.subarray((h * d + j * (d / 2) + i) * cols, (h * d + j * (d / 2) + i + 1) * cols), (h * d + 2 * i + j) * cols);
    }
    return out;
}

for (const arch of TRAINABLE_ARCHITECTURES) {
    const spec = ARCHITECTURES[arch];
    test(`PEFT export of a ${arch} adapter: ${spec.fused ? "fused modules whole" : "separate modules"}, q/k ${spec.permutedQK ? "rows un-permuted" : "rows as trained"}`, async () => {
        const base = writeArchBase(join(dir, `${arch}.gguf`), arch);
        const adapter = writeArchAdapter(join(dir, `${arch}-adapter.gguf`), base, projectionWeights(base), { rank: 2, alpha: 4 });
        const out = join(dir, `${arch}-peft`);
        await runExport({ format: "peft", model: base.path, adapter: adapter.path, out });
        const config = JSON.parse(readFileSync(join(out, "adapter_config.json"), "utf8")) as { target_modules: string[]; r: number; lora_alpha: number };
        assert.deepEqual(config.target_modules, spec.fused ? ["down_proj", "gate_up_proj", "o_proj", "qkv_proj"] : ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]);
        assert.deepEqual([config.r, config.lora_alpha], [2, 4]);

        const tensors = readSafetensors(join(out, "adapter_model.safetensors"));
        const layers = spec.hfLayerPath ?? "model.layers";
        const kvHeads = SMALL_SHAPE.nHeadKv;
        let unpermuted = 0;
        for (const weight of projectionWeights(base)) {
            const [, layer, module] = /^blk\.(\d+)\.([a-z_]+)\.weight$/.exec(weight)!;
            const prefix = `base_model.model.${layers}.${layer}.${spec.hfModules[module!]!}`;
            const a = tensors.get(`${prefix}.lora_A.weight`);
            const b = tensors.get(`${prefix}.lora_B.weight`);
            assert.ok(a && b, `${weight} → ${prefix}: ${[...tensors.keys()].slice(0, 4).join(", ")}…`);
            const ggufA = readTensorF32(adapter, `${weight}.lora_a`);
            const ggufB = readTensorF32(adapter, `${weight}.lora_b`);
            const nOut = ggufB.length / 2;
            assert.deepEqual(a.shape, [2, ggufA.length / 2]);
            assert.deepEqual(b.shape, [nOut, 2], `${weight}: one B for the whole ${module} (nothing split)`);
            assert.deepEqual(a.data, ggufA, `${weight}: A is copied exactly`);
            if (spec.permutedQK && (module === "attn_q" || module === "attn_k")) {
                const heads = module === "attn_q" ? SMALL_SHAPE.nHead : kvHeads;
                assert.deepEqual(permuteRows(b.data, nOut, 2, heads), ggufB, `${weight}: re-permuting the exported B gives the GGUF B`);
                assert.notDeepEqual(b.data, ggufB, `${weight}: the rows did move`);
                unpermuted++;
            } else {
                assert.deepEqual(b.data, ggufB, `${weight}: B is copied exactly`);
            }
        }
        assert.equal(tensors.size, 2 * projectionWeights(base).length, "one A and one B per adapted weight, nothing else");
        assert.equal(unpermuted, spec.permutedQK ? 2 * SMALL_SHAPE.nLayer : 0);
    });
}

test("a merged GGUF folds Phi-3's fused adapters into its fused weights", async () => {
    const base = readGguf(join(dir, "phi3.gguf"));
    const fused = ["blk.0.attn_qkv.weight", "blk.1.ffn_up.weight"];
    const adapter = writeArchAdapter(join(dir, "phi3-fused-adapter.gguf"), base, fused, { rank: 2, alpha: 3, seed: 5 });
    const out = join(dir, "phi3-merged.gguf");
    await runExport({ format: "merged", model: base.path, adapter: adapter.path, out, type: "f32" });
    const merged = readGguf(out);
    assert.deepEqual(merged.tensors.map((t) => [t.name, t.dims]), base.tensors.map((t) => [t.name, t.dims]));
    for (const t of base.tensors) {
        const w = readTensorF32(base, t.name);
        const got = readTensorF32(merged, t.name);
        if (!fused.includes(t.name)) {
            assert.deepEqual(got, w, `${t.name} is untouched`);
            continue;
        }
        const [nIn, nOut] = t.dims as [number, number];
        const a = readTensorF32(adapter, `${t.name}.lora_a`); // [rank, nIn] row-major
        const b = readTensorF32(adapter, `${t.name}.lora_b`); // [nOut, rank]
        let worst = 0;
        for (let o = 0; o < nOut; o++) for (let i = 0; i < nIn; i++) {
            const delta = (3 / 2) * (b[o * 2]! * a[i]! + b[o * 2 + 1]! * a[nIn + i]!);
            worst = Math.max(worst, Math.abs(got[o * nIn + i]! - (w[o * nIn + i]! + delta)));
        }
        assert.ok(worst < 1e-6, `${t.name}: merged differs from W + (alpha/rank)·B·A by ${worst}`);
    }
});
