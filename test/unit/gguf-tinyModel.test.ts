// The tiny-model generator: same options → same bytes (the default model's exactly as before), the header and
// tensors llama.cpp's loader needs for every architecture (that stock node-llama-cpp loads each one is
// test/integration/oracle-forward.test.ts's), the real tokenizers and chat templates, and clear errors.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgmlType, kvNumber, kvString, readGguf, readTensorF32, type GgufValue } from "../../sidecar/src/gguf";
import { makeTinyModelCommand } from "../../sidecar/src/cli/makeTinyModel";
import { UsageError } from "../../sidecar/src/cli/types";
import { TINY_ARCHS, TINY_SLIDING_WINDOW } from "../../sidecar/src/tinyModel/archs";
import { bundledTemplatePath, bundledVocabPath } from "../../sidecar/src/tinyModel/bundleAssets";
import { DEFAULT_TEMPLATE, makeTinyModel, type MakeTinyModelOptions, type TinyModelArch } from "../../sidecar/src/tinyModel/makeTinyModel";
import { DEFAULT_TINY_SHAPE } from "../../sidecar/src/tinyModel/shape";
import { TOKENIZERS, applyRenames, tokenizerKv } from "../../sidecar/src/tinyModel/tokenizers";

const dir = mkdtempSync(join(tmpdir(), "tiny-model-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const small = { nLayer: 1, nEmbd: 256, nHead: 2, nHeadKv: 1, nFf: 256 };
const sha = (p: string): string => createHash("sha256").update(readFileSync(p)).digest("hex");

test("the same seed gives the same file; another seed gives other weights", () => {
    const a = makeTinyModel({ out: join(dir, "a.gguf"), seed: 7, shape: small }).path;
    const b = makeTinyModel({ out: join(dir, "b.gguf"), seed: 7, shape: small }).path;
    const c = makeTinyModel({ out: join(dir, "c.gguf"), seed: 8, shape: small }).path;
    assert.equal(sha(a), sha(b));
    assert.notEqual(sha(a), sha(c));
});

test("the model is a complete llama GGUF with the phi-3 tokenizer and the Phi-3.5 chat template", () => {
    const info = makeTinyModel({ out: join(dir, "m.gguf"), shape: small });
    const f = readGguf(info.path);
    assert.equal(kvString(f, "general.architecture"), "llama");
    assert.equal(kvNumber(f, "llama.block_count"), 1);
    assert.equal(kvNumber(f, "llama.attention.head_count_kv"), 1);
    assert.equal(kvNumber(f, "llama.rope.dimension_count"), 128);
    assert.equal(kvString(f, "tokenizer.ggml.model"), "llama");
    assert.equal(kvString(f, "tokenizer.chat_template"), readFileSync(bundledTemplatePath("microsoft-Phi-3.5-mini-instruct"), "utf8"));
    assert.equal(info.nVocab, 32064);
    const names = f.tensors.map((t) => t.name);
    assert.deepEqual(names.filter((n) => n.startsWith("blk.0.")).sort(), [
        "attn_k", "attn_norm", "attn_output", "attn_q", "attn_v", "ffn_down", "ffn_gate", "ffn_norm", "ffn_up"
    ].map((n) => `blk.0.${n}.weight`));
    assert.deepEqual(f.tensors.find((t) => t.name === "blk.0.attn_k.weight")?.dims, [256, 128]);
    const w = readTensorF32(f, "blk.0.ffn_up.weight");
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    assert.ok(Math.abs(mean) < 1e-3 && Math.abs(std - 0.02) < 1e-3, `N(0, 0.02²) weights: mean ${mean}, std ${std}`);
    assert.deepEqual([...readTensorF32(f, "output_norm.weight")].every((v) => v === 1), true);
});

test("the Q4_0 variant stores 2-D weights as Q4_0 and norms as F32", () => {
    const f = readGguf(makeTinyModel({ out: join(dir, "q.gguf"), shape: small, quant: "q4_0" }).path);
    assert.equal(kvNumber(f, "general.file_type"), 2);
    for (const t of f.tensors) assert.equal(t.type, t.dims.length === 1 ? GgmlType.F32 : GgmlType.Q4_0, t.name);
});

test("impossible shapes are refused with the offending field named", () => {
    assert.throws(() => makeTinyModel({ out: join(dir, "x.gguf"), shape: { nEmbd: 258 } }), /nEmbd 258 is not divisible by nHead 4/);
    assert.throws(() => makeTinyModel({ out: join(dir, "x.gguf"), shape: { nHeadKv: 3 } }), /nHead 4 is not divisible by nHeadKv 3/);
    assert.throws(() => makeTinyModel({ out: join(dir, "x.gguf"), shape: { nLayer: 0 } }), /nLayer must be a positive number/);
});

test("the default model's bytes are those of the first fixtures (tests and the demo depend on them)", () => {
    // Changes only with node-llama-cpp's bundled phi-3 vocabulary or Phi-3.5 template; anything else is a regression.
    const info = makeTinyModel({ out: join(dir, "default.gguf") });
    assert.equal(sha(info.path), "974dd6545f59235d8c3cf5c54118c14bd9db430ef5d59d22de766ab39ea27644");
});

test("every architecture's tensors have the shapes its llama.cpp loader creates", () => {
    const blk0 = (arch: TinyModelArch, extra: Partial<MakeTinyModelOptions> = {}): Map<string, number[]> => {
        const f = readGguf(makeTinyModel({ out: join(dir, `${arch}.gguf`), arch, shape: { ...small, nLayer: 1 }, vocab: "phi-3", template: DEFAULT_TEMPLATE, ...extra }).path);
        return new Map(f.tensors.filter((t) => t.name.startsWith("blk.0.")).map((t) => [t.name.slice("blk.0.".length), t.dims]));
    };
    // small: n_embd 256, 2 heads of 128, 1 kv head, n_ff 256.
    const phi3 = blk0("phi3");
    assert.deepEqual(phi3.get("attn_qkv.weight"), [256, 256 + 2 * 128], "fused q | k | v");
    assert.deepEqual(phi3.get("ffn_up.weight"), [256, 2 * 256], "fused gate | up");
    assert.ok(!phi3.has("ffn_gate.weight") && !phi3.has("attn_q.weight"));
    const qwen3 = blk0("qwen3");
    assert.deepEqual([qwen3.get("attn_q_norm.weight"), qwen3.get("attn_k_norm.weight")], [[128], [128]], "QK-norm of head size");
    const gemma3 = blk0("gemma3");
    for (const n of ["post_attention_norm.weight", "post_ffw_norm.weight", "attn_q_norm.weight", "attn_k_norm.weight"]) assert.ok(gemma3.has(n), n);
    const moe = blk0("llama", { experts: { count: 4, used: 2 } });
    assert.deepEqual([moe.get("ffn_gate_inp.weight"), moe.get("ffn_gate_exps.weight"), moe.get("ffn_down_exps.weight"), moe.get("ffn_up_exps.weight")],
        [[256, 4], [256, 256, 4], [256, 256, 4], [256, 256, 4]]);
    assert.ok(!moe.has("ffn_gate.weight"));
});

test("Gemma 2 and 3 have sliding-window and global layers, with Gemma 2's soft-caps", () => {
    const kv = (arch: TinyModelArch): Map<string, GgufValue> =>
        new Map(TINY_ARCHS[arch].hparams({ arch, shape: { ...DEFAULT_TINY_SHAPE, ...TINY_ARCHS[arch].shapeDefaults }, headDim: 64, kvDim: 128 }, 100));
    const g2 = kv("gemma2");
    assert.deepEqual([g2.get("gemma2.attn_logit_softcapping")?.value, g2.get("gemma2.final_logit_softcapping")?.value], [50, 30]);
    assert.equal(g2.get("gemma2.attention.sliding_window")?.value, TINY_SLIDING_WINDOW);
    assert.ok(!g2.has("gemma2.attention.sliding_window_pattern"), "llama.cpp's default pattern 2: layers 0, 2 sliding, 1, 3 global");
    const g3 = kv("gemma3");
    const pattern = g3.get("gemma3.attention.sliding_window_pattern")?.value as boolean[];
    assert.deepEqual(pattern, [true, true, true, false]);
    assert.deepEqual([g3.get("gemma3.rope.freq_base")?.value, g3.get("gemma3.rope.freq_base_swa")?.value], [1e6, 1e4]);
    assert.ok(!g3.has("gemma3.final_logit_softcapping") && !g3.has("gemma3.attn_logit_softcapping"));
    assert.ok(TINY_SLIDING_WINDOW <= 16, "test sequences of 40-80 tokens reach past the window");
});

test("family tokens are renamed in the bundled relative's vocabulary: Gemma's turns, Qwen3's and SmolLM3's added tokens", () => {
    const tokens = (arch: "gemma" | "qwen3" | "smollm3"): { texts: string[]; types: number[]; eos: number } => {
        const choice = TOKENIZERS[arch];
        const path = bundledVocabPath(choice.vocab);
        const kv = new Map(applyRenames(tokenizerKv(path), choice, path));
        return {
            texts: kv.get("tokenizer.ggml.tokens")!.value as string[],
            types: kv.get("tokenizer.ggml.token_type")!.value as number[],
            eos: kv.get("tokenizer.ggml.eos_token_id")!.value as number
        };
    };
    const gemma = tokens("gemma");
    assert.equal(gemma.texts.length, 262144);
    assert.deepEqual([gemma.texts[105], gemma.texts[106], gemma.types[105], gemma.types[106]], ["<start_of_turn>", "<end_of_turn>", 3, 3]);
    assert.ok(!gemma.texts.includes("<|turn>"));
    const qwen3 = tokens("qwen3");
    assert.deepEqual([qwen3.texts[151667], qwen3.texts[151668], qwen3.eos, qwen3.texts[qwen3.eos]], ["<think>", "</think>", 151645, "<|im_end|>"]);
    const smol = tokens("smollm3");
    assert.deepEqual([smol.texts[128011], smol.texts[128012], smol.eos], ["<|im_start|>", "<|im_end|>", 128012]);
});

test("unknown architectures and impossible combinations are refused, naming the field", async () => {
    assert.throws(() => makeTinyModel({ out: join(dir, "x.gguf"), arch: "falcon" as TinyModelArch }), /unknown arch 'falcon'; known: llama, qwen2, qwen3, phi3, gemma, gemma2, gemma3, smollm3, mistral3, gemma4, qwen35/);
    assert.throws(() => makeTinyModel({ out: join(dir, "x.gguf"), arch: "gemma2", tiedEmbeddings: false }), /'gemma2' has no output.weight/);
    assert.throws(() => makeTinyModel({ out: join(dir, "x.gguf"), arch: "qwen3", experts: { count: 4, used: 2 } }), /experts are written for arch 'llama' only/);
    await assert.rejects(makeTinyModelCommand.run(["--out", join(dir, "x.gguf"), "--arch", "falcon"]), (err: Error) =>
        err instanceof UsageError && err.message.includes("--arch 'falcon'") && err.message.includes("gemma3, smollm3, mistral3"));
    assert.match(makeTinyModelCommand.usage, /--arch NAME +llama, qwen2, qwen3, phi3, gemma, gemma2, gemma3, smollm3, mistral3, gemma4, qwen35/);
});
