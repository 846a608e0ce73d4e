// An adapter records its base's fingerprint (issue 12.9): the tensor layout and a hash of a sample of the weights,
// written into the adapter GGUF after it is saved; an adapter loaded onto another base of the same shape warns, onto
// its own base (or when it records nothing) it does not.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { f32Bytes, GgmlType, readGguf, readTensorBytes, writeGguf, type GgufTensorToWrite } from "../../../sidecar/src/gguf";
import { baseFingerprint, FINGERPRINT_KEYS, fingerprintWarning, recordedFingerprint, stampBaseFingerprint } from "../../../sidecar/src/adapters/baseFingerprint";
import { checkAdapterFitsModel } from "../../../sidecar/src/adapters/adapterFit";

const dir = mkdtempSync(join(tmpdir(), "fingerprint-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function base(name: string, seed: number): string {
    const path = join(dir, name);
    const values = (n: number): Uint8Array => f32Bytes(Float32Array.from({ length: n }, (_, i) => Math.sin(i * seed)));
    writeGguf(path, {
        kv: [["general.architecture", { type: "string", value: "llama" }], ["general.name", { type: "string", value: name }]],
        tensors: [
            { name: "token_embd.weight", dims: [32, 8], type: GgmlType.F32, data: values(256) },
            { name: "blk.0.attn_q.weight", dims: [32, 32], type: GgmlType.F32, data: values(1024) }
        ]
    });
    return path;
}

const baseA = base("base-a.gguf", 1);
const baseB = base("base-b.gguf", 2); // same shape, other weights
const adapter = join(dir, "adapter.gguf");
const pair: GgufTensorToWrite[] = [
    { name: "blk.0.attn_q.weight.lora_a", dims: [32, 4], type: GgmlType.F32, data: f32Bytes(new Float32Array(128).fill(0.01)) },
    { name: "blk.0.attn_q.weight.lora_b", dims: [4, 32], type: GgmlType.F32, data: f32Bytes(new Float32Array(128)) }
];
writeGguf(adapter, { kv: [["general.architecture", { type: "string", value: "llama" }], ["general.type", { type: "string", value: "adapter" }], ["adapter.type", { type: "string", value: "lora" }]], tensors: pair });

test("the fingerprint depends on the weights and the layout, not on the path", () => {
    const a = baseFingerprint(readGguf(baseA));
    const b = baseFingerprint(readGguf(baseB));
    assert.equal(a.layout, b.layout);
    assert.notEqual(a.weights, b.weights);
    const copy = join(dir, "copy-of-a.gguf");
    copyFileSync(baseA, copy);
    assert.deepEqual({ ...baseFingerprint(readGguf(copy)), name: "" }, { ...a, name: "" });
});

test("stamping keeps the adapter's tensors and keys and adds the three fingerprint keys", () => {
    const stamped = join(dir, "stamped.gguf");
    copyFileSync(adapter, stamped);
    const before = readGguf(stamped);
    const bytesBefore = new Map(before.tensors.map((t) => [t.name, readTensorBytes(before, t.name)]));
    stampBaseFingerprint(stamped, baseFingerprint(readGguf(baseA)));
    const after = readGguf(stamped);
    for (const t of before.tensors) assert.deepEqual(readTensorBytes(after, t.name), bytesBefore.get(t.name));
    for (const key of Object.values(FINGERPRINT_KEYS)) assert.equal(after.kv.get(key)?.type, "string", key);
    assert.equal(after.kv.get("adapter.type")?.value, "lora");
    assert.equal(recordedFingerprint(after)?.name, "base-a.gguf");
    const once = readFileSync(stamped);
    stampBaseFingerprint(stamped, baseFingerprint(readGguf(baseA)));
    assert.deepEqual(readFileSync(stamped), once, "stamping twice gives the same bytes");
});

test("loading onto another base of the same shape warns; onto its own base, or unstamped, it does not", () => {
    const stamped = join(dir, "stamped-b.gguf");
    copyFileSync(adapter, stamped);
    stampBaseFingerprint(stamped, baseFingerprint(readGguf(baseA)));
    assert.equal(fingerprintWarning(readGguf(stamped), readGguf(baseA)), undefined);
    assert.match(fingerprintWarning(readGguf(stamped), readGguf(baseB)) ?? "", /was trained on "base-a\.gguf", a base of the same shape but other weights/);
    assert.deepEqual(checkAdapterFitsModel(baseA, stamped), []);
    assert.equal(checkAdapterFitsModel(baseB, stamped).length, 1, "the fit check returns the warning for chat and eval to show");
    assert.equal(fingerprintWarning(readGguf(adapter), readGguf(baseB)), undefined, "an adapter from before fingerprints is not warned about");
});
