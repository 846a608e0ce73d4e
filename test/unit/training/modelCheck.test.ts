// Whether a base model can be trained with a run config's targets, checked two ways that must agree: the pure target
// rules and the run-config diagnostics (through the language server's real file probe, on GGUF files written here).
// run/start's refusal of the same models is the one run-config resolution with forTraining (test/unit/training/
// config.test.ts). Also the header reader's skipping of tokenizer arrays that makes these checks cheap.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ARCHITECTURES, TRAINABLE_ARCHITECTURES } from "../../../sidecar/src/engine/architectures";
import { checkRunConfig } from "../../../sidecar/src/datasets/runConfig";
import { readGguf, writeGguf } from "../../../sidecar/src/gguf";
import { trainabilityOfFile } from "../../../sidecar/src/training/modelCheck";
import { checkTargets } from "../../../sidecar/src/training/targetCheck";
import { nodeFileProbe } from "../../../extension/server/runConfigDocuments";
import { projectionDims, writeArchAdapter, writeArchBase } from "../support/archModels";

const dir = mkdtempSync(join(tmpdir(), "model-check-"));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "train.jsonl"), '{"text": "x"}\n');

const phi3 = writeArchBase(join(dir, "phi3.gguf"), "phi3");
const llama = writeArchBase(join(dir, "llama.gguf"), "llama");
const gemma2 = writeArchBase(join(dir, "gemma2.gguf"), "gemma2");
writeArchBase(join(dir, "mixtral.gguf"), "llama", { kv: { "llama.expert_count": { type: "u32", value: 8 } } });
writeArchBase(join(dir, "rwkv.gguf"), "rwkv7");
writeArchBase(join(dir, "gptneox.gguf"), "gptneox");
writeArchAdapter(join(dir, "adapter.gguf"), llama, ["blk.0.attn_q.weight"]);
const names = (f: { tensors: Array<{ name: string }> }): string[] => f.tensors.map((t) => t.name);

test("every supported architecture takes the seven targets, each mapped to a tensor its models have", () => {
    for (const arch of TRAINABLE_ARCHITECTURES) {
        const spec = ARCHITECTURES[arch];
        const tensors = Object.keys(projectionDims(arch)).map((t) => `blk.0.${t}.weight`);
        assert.deepEqual(checkTargets(spec, ["attn_q", "attn_k", "attn_v", "attn_o", "ffn_gate", "ffn_up", "ffn_down"], tensors), [], arch);
    }
});

test("fused names: valid on Phi-3, an error naming the replacements elsewhere; a partial fused selection is a note", () => {
    assert.deepEqual(checkTargets(ARCHITECTURES.phi3, ["attn_qkv", "ffn_gate_up", "attn_o", "ffn_down"], names(phi3)), []);
    const [qkv, gateUp, ...rest] = checkTargets(ARCHITECTURES.llama, ["attn_qkv", "ffn_gate_up"], names(llama));
    assert.equal(rest.length, 0);
    assert.deepEqual([qkv!.code, qkv!.severity, qkv!.index], ["fused-target-on-separate-model", "error", 0]);
    assert.match(qkv!.message, /'attn_qkv' is a fused target, and llama models have separate projections: use attn_q, attn_k and attn_v/);
    assert.match(gateUp!.message, /use ffn_gate and ffn_up/);

    const partial = checkTargets(ARCHITECTURES.phi3, ["attn_o", "attn_q", "ffn_up"], names(phi3));
    assert.deepEqual(partial.map((p) => [p.code, p.severity, p.index, p.target]), [
        ["partial-fused-selection", "info", 1, "attn_q"],
        ["partial-fused-selection", "info", 2, "ffn_up"]
    ]);
    assert.match(partial[0]!.message, /q, k and v are one fused tensor \(attn_qkv\), so attn_q adapts all of q, k and v; write "attn_qkv"/);
    assert.deepEqual(checkTargets(ARCHITECTURES.phi3, ["attn_q", "attn_k", "attn_v"], names(phi3)), [], "all three named: nothing to say");
});

test("a target whose tensor the model lacks is a warning that lists what the model has", () => {
    const noGate = names(gemma2).filter((n) => !n.includes("ffn_gate"));
    const [missing, ...rest] = checkTargets(ARCHITECTURES.gemma2, ["attn_q", "ffn_gate"], noGate);
    assert.equal(rest.length, 0);
    assert.deepEqual([missing!.code, missing!.severity, missing!.index], ["target-missing", "warning", 1]);
    assert.match(missing!.message, /'ffn_gate' selects the tensor ffn_gate, which this gemma2 model does not have \(its adaptable tensors: attn_q, attn_k, attn_v, attn_output, ffn_up, ffn_down\)/);
});

test("trainability of files: supported architectures by name, refusals with the architecture and the supported list", () => {
    assert.equal(trainabilityOfFile(join(dir, "phi3.gguf")).trainable, true);
    const reasons = Object.fromEntries(["mixtral", "rwkv", "gptneox", "adapter"].map((n) => {
        const t = trainabilityOfFile(join(dir, `${n}.gguf`));
        assert.equal(t.trainable, false, n);
        return [n, t.trainable ? "" : t.reason];
    }));
    assert.match(reasons.mixtral!, /'llama' here is a mixture-of-experts model \(8 experts\).*LoRA Studio trains llama, qwen2, qwen3, phi3, gemma, gemma2, gemma3, smollm3, mistral3/);
    assert.match(reasons.rwkv!, /'rwkv7' is a recurrent or hybrid model/);
    assert.match(reasons.gptneox!, /architecture 'gptneox' cannot be trained; LoRA Studio trains llama, qwen2/);
    assert.match(reasons.adapter!, /adapter\.gguf is a LoRA adapter \(general\.type "adapter"\), not a base model/);
    writeFileSync(join(dir, "truncated.gguf"), "GGUF\u0003\u0000");
    const broken = trainabilityOfFile(join(dir, "truncated.gguf"));
    assert.ok(!broken.trainable && /cannot be read as a GGUF model .*truncated/.test(broken.reason), JSON.stringify(broken));
});

/** Diagnostics of a config in `dir` as the language server computes them (its real node:fs probe). */
function diagnose(fields: Record<string, unknown>): Array<[string, string, string]> {
    const text = JSON.stringify({ data: "train.jsonl", ...fields }, null, 4);
    const lines = text.split("\n");
    return checkRunConfig(text, dir, nodeFileProbe, resolve).map((d) => [d.code as string, lines[d.range.start.line]!.slice(d.range.start.character, d.range.end.line === d.range.start.line ? d.range.end.character : undefined), d.message]);
}

test("run-config diagnostics: RC204 on the model for each refused kind, RC205-RC207 on the target's own entry", () => {
    for (const model of ["mixtral.gguf", "rwkv.gguf", "gptneox.gguf", "adapter.gguf"]) {
        const [d, ...rest] = diagnose({ model, targetModules: ["attn_qkv"] });
        assert.equal(rest.length, 0, `${model}: targets are not checked on a model that cannot be trained`);
        assert.equal(d![0], "RC204", model);
        assert.equal(d![1], `"${model}"`);
        // An adapter is refused by the load guard itself, in the words chat and export use for it.
        const why = model === "adapter.gguf" ? ` is a LoRA adapter \\(general\\.type "adapter"\\), not a base model` : " cannot be trained: ";
        assert.match(d![2], new RegExp(`model: .*${model}${why}`));
    }
    assert.deepEqual(diagnose({ model: "phi3.gguf" }), [], "default targets on Phi-3");
    assert.deepEqual(diagnose({ model: "phi3.gguf", targetModules: ["attn_qkv", "ffn_gate_up"] }), []);
    assert.deepEqual(diagnose({ model: "llama.gguf", targetModules: ["attn_q", "attn_qkv"] }).map(([c, r]) => [c, r]), [["RC206", '"attn_qkv"']]);
    const [partial] = diagnose({ model: "phi3.gguf", targetModules: ["attn_v", "ffn_down"] });
    assert.deepEqual(partial!.slice(0, 2), ["RC207", '"attn_v"']);
    assert.match(partial![2], /targetModules\[0\] "attn_v": on phi3 models/);

    const noGate = join(dir, "no-gate.gguf");
    const file = readGguf(join(dir, "gemma2.gguf"));
    writeGguf(noGate, { kv: file.kv, tensors: file.tensors.filter((t) => !t.name.includes("ffn_gate")).map((t) => ({ name: t.name, dims: t.dims, type: t.type, data: new Uint8Array(t.byteLength!) })) });
    const [missing, ...rest] = diagnose({ model: "no-gate.gguf", targetModules: ["attn_q", "ffn_gate", "bogus"] });
    assert.deepEqual(rest.map(([c]) => c), ["RC104"], "the unknown entry is the schema's");
    assert.deepEqual(missing!.slice(0, 2), ["RC205", '"ffn_gate"']);
});

test("the header reader can skip long arrays: the rest of the header is read exactly as in full", () => {
    const path = join(dir, "with-tokens.gguf");
    const tokens = Array.from({ length: 5000 }, (_, i) => `tok${i}`);
    writeGguf(path, {
        kv: [
            ["general.architecture", { type: "string", value: "qwen3" }],
            ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: tokens }],
            ["tokenizer.ggml.scores", { type: "array", itemType: "f32", value: tokens.map(() => 0.5) }],
            ["qwen3.attention.head_count_kv", { type: "array", itemType: "u32", value: [2, 2, 4] }],
            ["tokenizer.ggml.eos_token_id", { type: "u32", value: 7 }]
        ],
        tensors: [{ name: "blk.0.attn_q.weight", dims: [4, 4], type: 0, data: new Uint8Array(64) }]
    });
    const full = readGguf(path);
    const light = readGguf(path, { skipArraysOver: 4096 });
    assert.deepEqual([...light.kv.keys()], ["general.architecture", "qwen3.attention.head_count_kv", "tokenizer.ggml.eos_token_id"]);
    for (const [k, v] of light.kv) assert.deepEqual(v, full.kv.get(k), k);
    assert.deepEqual(light.tensors, full.tensors);
    assert.equal(light.dataOffset, full.dataOffset);
});
