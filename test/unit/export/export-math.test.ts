// The pure parts of the exports: dequantization, the LoRA merge, the Q/K row un-permutation and the safetensors
// layout (F32, BF16), the default paths. The end-to-end checks against independent readers live in test/integration/export-*.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeF16, encodeQ4_0, f16BitsToF32, GgmlType } from "../../../sidecar/src/gguf";
import { canDequantize, dequantize, UnsupportedTensorTypeError } from "../../../sidecar/src/export/dequantize";
import { mergeWeight } from "../../../sidecar/src/export/merged";
import { unpermuteRows } from "../../../sidecar/src/export/peft";
import { encodeSafetensors } from "../../../sidecar/src/export/safetensors";
import { defaultExportPath, PEFT_DTYPES } from "../../../sidecar/src/export";
import { join } from "node:path";

function seeded(n: number, seed: number): Float32Array {
    let s = seed >>> 0;
    return Float32Array.from({ length: n }, () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return (s / 2 ** 32) * 2 - 1;
    });
}

test("F16 and Q4_0 decode to what was encoded, within one Q4_0 step", () => {
    const x = seeded(256, 1);
    const f16 = encodeF16(x);
    const halves = new Uint16Array(f16.buffer);
    assert.deepEqual(dequantize(GgmlType.F16, f16, x.length, "t"), Float32Array.from(halves, (h) => f16BitsToF32(h)));
    const q = dequantize(GgmlType.Q4_0, encodeQ4_0(x), x.length, "t");
    for (let b = 0; b < x.length / 32; b++) {
        const block = x.subarray(b * 32, b * 32 + 32);
        // d = max / -8 with 16 levels: half a step off, except a full step where the value opposite the max clips.
        const step = Math.max(...block.map(Math.abs)) / 8;
        for (let j = 0; j < 32; j++) assert.ok(Math.abs(q[b * 32 + j]! - block[j]!) <= step * 1.001, `block ${b} value ${j}`);
    }
    assert.equal(canDequantize(GgmlType.Q5_K), false);
    assert.throws(() => dequantize(GgmlType.Q5_K, new Uint8Array(0), 0, "tensor 'x' in m.gguf"), (e: Error) => e instanceof UnsupportedTensorTypeError && /tensor 'x' in m\.gguf is stored as Q5_K/.test(e.message));
});

test("mergeWeight adds scale · B · A to W", () => {
    // W [2, 3] = 1, A [1, 3] = [1, 2, 3], B [2, 1] = [10, -1], scale 0.5
    const w = new Float32Array(6).fill(1);
    const out = mergeWeight(w, { weight: "w", rank: 1, nIn: 3, nOut: 2, a: undefined as never, b: undefined as never }, Float32Array.of(1, 2, 3), Float32Array.of(10, -1), 0.5);
    assert.deepEqual([...out], [6, 11, 16, 0.5, 0, -0.5]);
    assert.deepEqual([...w], [1, 1, 1, 1, 1, 1], "W itself is not modified");
});

test("unpermuteRows inverts convert_hf_to_gguf's LlamaModel.permute", () => {
    // permute: w.reshape(n_head, 2, d/2, cols).swapaxes(1, 2): GGUF row h·d + 2i + j = HF row h·d + j·d/2 + i.
    const nHead = 2, d = 8, cols = 3, rows = nHead * d;
    const hf = Float32Array.from({ length: rows * cols }, (_, k) => k);
    const gguf = new Float32Array(hf.length);
    for (let h = 0; h < nHead; h++) for (let i = 0; i < d / 2; i++) for (let j = 0; j < 2; j++) {
        gguf.set(hf.subarray((h * d + j * (d / 2) + i) * cols, (h * d + j * (d / 2) + i + 1) * cols), (h * d + 2 * i + j) * cols);
    }
    assert.notDeepEqual(gguf, hf);
    assert.deepEqual(unpermuteRows(gguf, rows, cols, nHead), hf);
});

test("safetensors: 8-byte header length, JSON header padded to 8 bytes, offsets into the data", () => {
    const bytes = encodeSafetensors([
        { name: "a", shape: [1, 3], data: Float32Array.of(1, 2, 3) },
        { name: "b", shape: [2], data: Float32Array.of(-1, 0.5) }
    ], "F32", { format: "pt" });
    const view = new DataView(bytes.buffer);
    const n = Number(view.getBigUint64(0, true));
    assert.equal((8 + n) % 8, 0);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8")) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    assert.deepEqual(header.__metadata__, { format: "pt" });
    assert.deepEqual(header.a, { dtype: "F32", shape: [1, 3], data_offsets: [0, 12] });
    assert.deepEqual(header.b, { dtype: "F32", shape: [2], data_offsets: [12, 20] });
    assert.equal(bytes.length, 8 + n + 20);
    assert.equal(view.getFloat32(8 + n + 12, true), -1);
    assert.throws(() => encodeSafetensors([{ name: "c", shape: [2, 2], data: new Float32Array(3) }], "F32"), /has 3 values but shape \[2, 2\]/);
});

test("safetensors BF16: two bytes a value, the top half of each F32 rounded to nearest even", () => {
    // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even wins (1); 1 + 3·2^-8 ties to 1 + 2^-6 (even mantissa).
    const values = Float32Array.of(1, -2.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20);
    const bytes = encodeSafetensors([{ name: "w", shape: [5], data: values }], "BF16");
    const view = new DataView(bytes.buffer);
    const n = Number(view.getBigUint64(0, true));
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8")) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    assert.deepEqual(header.w, { dtype: "BF16", shape: [5], data_offsets: [0, 10] });
    const decoded = Array.from({ length: 5 }, (_, i) => new Float32Array(Uint32Array.of(view.getUint16(8 + n + 2 * i, true) << 16).buffer)[0]);
    assert.deepEqual(decoded, [1, -2.5, 1, 1 + 2 ** -6, 1 + 2 ** -7]);
});

test("the default PEFT folder is named by its dtype, except the default f32", () => {
    const adapter = join("runs", "r1", "adapter.gguf");
    assert.equal(defaultExportPath(adapter, "peft"), join("runs", "r1", "export", "peft"));
    assert.equal(defaultExportPath(adapter, "peft", undefined, "f32"), join("runs", "r1", "export", "peft"));
    assert.equal(defaultExportPath(adapter, "peft", undefined, "bf16"), join("runs", "r1", "export", "peft-bf16"));
    assert.deepEqual(PEFT_DTYPES, ["f32", "f16", "bf16"]);
});
