// The architecture table (sidecar/src/engine/architectures.ts) decides, from a GGUF header alone, whether the engine
// can train a model and which tensor each LoRA target selects. The native engine keeps the same list and wording; the
// integration test engine-architectures.test.ts compares the two on real files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ARCHITECTURES, TRAINABLE_ARCHITECTURES, checkTrainable, tensorForTarget } from "../../sidecar/src/engine";
import type { GgufTensorInfo, GgufValue } from "../../sidecar/src/gguf";

function header(kv: Record<string, GgufValue>, tensors: Partial<GgufTensorInfo>[] = []): { kv: Map<string, GgufValue>; tensors: GgufTensorInfo[] } {
    return {
        kv: new Map(Object.entries(kv)),
        tensors: tensors.map((t) => ({ name: "x", dims: [1], type: 0, offset: 0, byteLength: 4, ...t }))
    };
}
const arch = (name: string): Record<string, GgufValue> => ({ "general.architecture": { type: "string", value: name } });

test("every listed architecture is trainable, with its own spec", () => {
    for (const a of TRAINABLE_ARCHITECTURES) {
        const r = checkTrainable(header(arch(a)));
        assert.equal(r.trainable, true, a);
        if (r.trainable) assert.equal(r.spec.arch, a);
    }
});

test("refusals name the architecture and list the supported ones", () => {
    const cases: Array<[string, Record<string, GgufValue>, Partial<GgufTensorInfo>[], RegExp]> = [
        ["unknown", arch("gpt2"), [], /architecture 'gpt2' cannot be trained/],
        ["hybrid", arch("qwen35"), [], /'qwen35' is a recurrent or hybrid model/],
        ["recurrent", arch("mamba"), [], /'mamba' is a recurrent or hybrid model/],
        ["MoE by key (Mixtral declares llama)", { ...arch("llama"), "llama.expert_count": { type: "u32", value: 8 } }, [], /'llama' here is a mixture-of-experts model \(8 experts\)/],
        ["MoE by tensors only", arch("llama"), [{ name: "blk.0.ffn_up_exps.weight", dims: [256, 768, 4] }], /mixture-of-experts model \(4 experts\)/]
    ];
    for (const [name, kv, tensors, pattern] of cases) {
        const r = checkTrainable(header(kv, tensors));
        assert.equal(r.trainable, false, name);
        if (!r.trainable) {
            assert.match(r.reason, pattern, name);
            assert.match(r.reason, /LoRA Studio trains llama, qwen2, qwen3, phi3, gemma, gemma2, gemma3, smollm3, mistral3/, name);
        }
    }
    const adapter = checkTrainable(header({ ...arch("llama"), "general.type": { type: "string", value: "adapter" } }));
    assert.equal(adapter.trainable, false);
    if (!adapter.trainable) assert.match(adapter.reason, /LoRA adapter, not a base model/);
    assert.equal(checkTrainable(header({ "llama.expert_count": { type: "u32", value: 0 }, ...arch("llama") })).trainable, true, "expert_count 0 is dense");
});

test("targets map to each architecture's tensors; Phi-3's q/k/v and gate/up select its fused tensors", () => {
    assert.deepEqual(tensorForTarget(ARCHITECTURES.llama, "attn_o"), { tensor: "attn_output" });
    assert.deepEqual(tensorForTarget(ARCHITECTURES.gemma2, "ffn_gate"), { tensor: "ffn_gate" });
    for (const t of ["attn_q", "attn_k", "attn_v", "attn_qkv"] as const) assert.deepEqual(tensorForTarget(ARCHITECTURES.phi3, t), { tensor: "attn_qkv" }, t);
    for (const t of ["ffn_gate", "ffn_up", "ffn_gate_up"] as const) assert.deepEqual(tensorForTarget(ARCHITECTURES.phi3, t), { tensor: "ffn_up" }, t);
    const fusedOnSeparate = tensorForTarget(ARCHITECTURES.qwen2, "attn_qkv");
    assert.ok("error" in fusedOnSeparate && /fused target, and qwen2 models have separate projections: use attn_q, attn_k and attn_v/.test(fusedOnSeparate.error));
});

test("only the architectures llama.cpp's converter permuted (normal RoPE) need their q/k rows un-permuted on export", () => {
    const permuted = TRAINABLE_ARCHITECTURES.filter((a) => ARCHITECTURES[a].permutedQK);
    assert.deepEqual(permuted, ["llama", "smollm3", "mistral3"]);
});
