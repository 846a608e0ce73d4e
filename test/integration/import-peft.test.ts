// PEFT import (issue 16.1), checked by readers that are not the importer:
// - our own PEFT export, imported back, gives the engine's GGUF adapter tensors bit for bit (F32), for the trained facts
//   adapter and for a random adapter on every projection of every architecture the engine trains; F16/BF16 exports
//   give exactly the GGUF values rounded to that dtype;
// - PyTorch (test/oracle/peft_import_oracle.py) writes a PEFT folder of its own from random tensors in Hugging Face
//   layout and module names, then checks, with llama.cpp's gguf-py reading the imported GGUF, that the imported delta
//   (alpha/r)·B·A equals PEFT's scale·B·A (alpha/r or rsLoRA's alpha/√r, with rank_pattern and alpha_pattern), with
//   llama.cpp's q/k permutation re-applied, within 1e-6, for a llama-family and a Phi-3-family tiny model, from F32,
//   F16 and BF16 files;
// - an adapter PyTorch wrote, imported, passes chat's fit check and every export, and its PEFT re-export is PyTorch's file;
// - stock node-llama-cpp with an adapter that went engine → PEFT (BF16) → import answers the facts it was trained on;
// - the CLI writes the file and prints its path.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkAdapterFitsModel } from "../../sidecar/src/adapters/adapterFit";
import { runExport } from "../../sidecar/src/export";
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, readGguf, readTensorBytes, readTensorF32 } from "../../sidecar/src/gguf";
import { importPeftAdapter } from "../../sidecar/src/importAdapter";
import { llamaCppSourceDir } from "../../sidecar/src/tinyModel/bundleAssets";
import { ARCHITECTURES, TRAINABLE_ARCHITECTURES } from "../../sidecar/src/engine/architectures";
import { greedyAnswers, loadArchFacts, wrongAnswers } from "../oracle/archFacts";
import { syntheticFacts } from "../oracle/facts";
import { archFixturePath } from "../oracle/fixtures";
import { PYTHON, repoRoot } from "../oracle/torchReference";
import { writeRandomAdapter } from "../oracle/randomAdapter";
import { factsAdapter, type FactsAdapter } from "../oracle/trainedAdapter";

const dir = mkdtempSync(join(tmpdir(), "import-peft-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let fx: FactsAdapter;
before(async () => {
    fx = await factsAdapter();
});

function oracle(...args: string[]): Record<string, number | string> {
    const r = spawnSync(PYTHON, [join(repoRoot(), "test", "oracle", "peft_import_oracle.py"), ...args], {
        encoding: "utf8",
        env: { ...process.env, GGUF_PY: join(llamaCppSourceDir(), "gguf-py"), OMP_NUM_THREADS: "1" }
    });
    assert.equal(r.status, 0, `peft_import_oracle.py ${args[0]} failed:\n${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, number | string>;
}

test("our PEFT export (F32) imported back gives the engine's GGUF adapter tensors bit for bit", async () => {
    const peft = join(dir, "roundtrip-f32");
    await runExport({ format: "peft", model: fx.model, adapter: fx.adapter, out: peft });
    const out = join(dir, "roundtrip-f32.gguf");
    const result = await importPeftAdapter({ peft, model: fx.model, out });
    assert.equal(result.permutedPairs, 4 * 2, "q and k of the 4 llama layers get llama.cpp's permutation back");
    assert.equal(result.rescaledPairs, 0);

    assertSameTensors(out, fx.adapter);
});

/** Every tensor of `imported` has the name, dims, type and bytes of the same tensor in `original`, and nothing else. */
function assertSameTensors(importedPath: string, originalPath: string): void {
    const original = readGguf(originalPath);
    const imported = readGguf(importedPath);
    for (const key of ["general.architecture", "general.type", "adapter.type", "adapter.lora.alpha"]) {
        assert.deepEqual(imported.kv.get(key), original.kv.get(key), key);
    }
    assert.deepEqual(imported.tensors.map((t) => t.name).sort(), original.tensors.map((t) => t.name).sort());
    for (const t of original.tensors) {
        const mine = imported.tensors.find((x) => x.name === t.name)!;
        assert.deepEqual([mine.dims, mine.type], [t.dims, t.type], t.name);
        assert.ok(Buffer.from(readTensorBytes(imported, t.name)).equals(Buffer.from(readTensorBytes(original, t.name))), `${t.name}: the bytes differ`);
    }
}

for (const arch of TRAINABLE_ARCHITECTURES) {
    test(`every module of a ${arch} adapter survives PEFT export and import bit for bit (names, fused modules, q/k rows)`, async () => {
        const model = archFixturePath(arch, "f32");
        const adapter = join(dir, `random-${arch}.gguf`);
        // Every projection llama.cpp adapts in a decoder layer; the output layer is neither trained nor exported.
        const weights = writeRandomAdapter(model, adapter, { rank: 4, alpha: 8, std: 0.5, include: (w) => w.startsWith("blk.") });
        const peft = join(dir, `random-${arch}-peft`);
        await runExport({ format: "peft", model, adapter, out: peft });
        const out = join(dir, `random-${arch}-imported.gguf`);
        const result = await importPeftAdapter({ peft, model, out });
        assert.equal(result.pairs, weights.length);
        assert.equal(result.permutedPairs > 0, ARCHITECTURES[arch].permutedQK);
        assertSameTensors(out, adapter);
    });
}

for (const [dtype, round] of [
    ["f16", (v: number) => f16BitsToF32(f32ToF16Bits(v))],
    ["bf16", (v: number) => bf16BitsToF32(f32ToBf16Bits(v))]
] as const) {
    test(`our ${dtype.toUpperCase()} PEFT export imported back holds exactly the adapter's values rounded to ${dtype.toUpperCase()}`, async () => {
        const peft = join(dir, `roundtrip-${dtype}`);
        await runExport({ format: "peft", model: fx.model, adapter: fx.adapter, out: peft, dtype });
        const out = join(dir, `roundtrip-${dtype}.gguf`);
        const result = await importPeftAdapter({ peft, model: fx.model, out });
        assert.deepEqual(result.dtypes, [dtype.toUpperCase()]);
        const original = readGguf(fx.adapter);
        const imported = readGguf(out);
        let changed = 0;
        for (const t of original.tensors) {
            const want = readTensorF32(original, t.name).map(round);
            const got = readTensorF32(imported, t.name);
            assert.deepEqual(got, want, `${t.name}: not the ${dtype} rounding of the original`);
            changed += want.some((v, i) => v !== readTensorF32(original, t.name)[i]) ? 1 : 0;
        }
        assert.ok(changed > 0, "rounding changed something, so the comparison is not vacuous");
    });
}

for (const arch of ["llama", "phi3"] as const) {
    for (const [dtype, extra] of [["F32", ["--rslora", "--patterns"]], ["F16", []], ["BF16", ["--rslora"]]] as const) {
        const what = extra.length ? ` (${extra.map((e) => e.slice(2)).join(", ")})` : "";
        test(`PyTorch: a ${dtype} PEFT adapter for the tiny ${arch} model${what}, imported, has PEFT's delta within 1e-6`, async () => {
            const model = archFixturePath(arch, "f32");
            const peft = join(dir, `oracle-${arch}-${dtype}`);
            const written = oracle("write", peft, model, "--dtype", dtype, "--rank", "8", "--alpha", "16", "--seed", "7", ...extra);
            const out = join(dir, `oracle-${arch}-${dtype}.gguf`);
            const result = await importPeftAdapter({ peft, model, out });
            assert.equal(result.pairs, written.pairs);
            assert.deepEqual(result.dtypes, [dtype]);
            assert.equal(result.rescaledPairs, (extra as readonly string[]).includes("--patterns") ? 2 : 0, "rank_pattern under rsLoRA and alpha_pattern each need their own scale");
            const check = oracle("check", peft, model, out);
            assert.equal(check.arch, arch);
            assert.equal(check.pairs, written.pairs, "every PEFT pair is in the GGUF, and nothing else");
            assert.equal(check.permutedPairs, arch === "llama" ? 4 * 2 : 0);
            assert.equal(check.maxDiffA, 0, "A is copied exactly (F16/BF16 widened exactly)");
            assert.ok((check.maxAbsDelta as number) > 0.1, `the deltas are large enough to see a mistake (${check.maxAbsDelta})`);
            assert.ok((check.maxDiffDelta as number) <= 1e-6, `the imported delta differs from PEFT's by ${check.maxDiffDelta}`);
        });
    }
}

test("an adapter PyTorch wrote for Phi-3, imported, passes chat's fit check and every export, and exports back to the same PEFT tensors", async () => {
    const model = archFixturePath("phi3", "f32");
    const peft = join(dir, "accepted-phi3");
    oracle("write", peft, model, "--dtype", "F32", "--rank", "8", "--alpha", "16", "--seed", "3");
    const imported = join(dir, "accepted-phi3.gguf");
    await importPeftAdapter({ peft, model, out: imported });
    assert.deepEqual(checkAdapterFitsModel(model, imported), [], "chat and evaluation load it without a warning");
    for (const [format, out] of [["gguf-lora", "copy.gguf"], ["merged", "merged.gguf"], ["ollama", "Modelfile"], ["peft", "peft"]] as const) {
        const result = await runExport({ format, model, adapter: imported, out: join(dir, "accepted-exports", out), ...(format === "merged" ? { type: "f32" as const } : {}) });
        assert.ok(result.files.every((f) => existsSync(f)), `${format}: ${result.files.join(", ")}`);
    }
    // PyTorch's file and our re-export of the import hold the same tensors, bit for bit (Phi-3: nothing permuted).
    const tensors = (path: string): Map<string, string> => {
        const bytes = readFileSync(path);
        const n = Number(bytes.readBigUInt64LE(0));
        const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8")) as Record<string, { shape: number[]; data_offsets: [number, number] }>;
        return new Map(Object.entries(header).filter(([k]) => k !== "__metadata__").map(([k, v]) => [k, `${v.shape.join("x")}:${bytes.subarray(8 + n + v.data_offsets[0], 8 + n + v.data_offsets[1]).toString("base64")}`]));
    };
    assert.deepEqual(tensors(join(dir, "accepted-exports", "peft", "adapter_model.safetensors")), tensors(join(peft, "adapter_model.safetensors")));
});

test("stock node-llama-cpp with an adapter taken engine → PEFT (BF16) → import answers the facts it was trained on", async () => {
    const peft = join(dir, "facts-bf16");
    await runExport({ format: "peft", model: fx.model, adapter: fx.adapter, out: peft, dtype: "bf16" });
    const out = join(dir, "facts-imported.gguf");
    await importPeftAdapter({ peft, model: fx.model, out });
    const facts = syntheticFacts(fx.facts.length);
    assert.deepEqual(facts.map((f) => f.answer), fx.facts.map((f) => f.answer), "the facts the adapter was trained on");
    const { stock, prompts } = await loadArchFacts(fx.model, facts, 128, 0);
    try {
        const wrongBefore = wrongAnswers(facts, await greedyAnswers(stock, prompts));
        assert.ok(wrongBefore.length > facts.length / 2, "the base alone does not know the facts");
        const wrong = wrongAnswers(facts, await greedyAnswers(stock, prompts, out));
        assert.ok(wrong.length <= Math.floor(0.05 * facts.length), `${facts.length - wrong.length}/${facts.length} exact with the imported adapter:\n${wrong.join("\n")}`);
    } finally {
        await stock.dispose();
    }
});

test("lora-studio import-adapter writes the GGUF LoRA, prints its path, and refuses to replace it without --force", () => {
    const peft = join(dir, "roundtrip-f32");
    const out = join(dir, "cli", "adapter.gguf");
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot(), "bin", "lora-studio.mjs"), "import-adapter", ...args], { encoding: "utf8" });
    const ok = cli("--peft", peft, "--model", fx.model, "--out", out);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), out);
    assert.match(ok.stderr, /llama: 28 LoRA pairs \(F32\), alpha 32, 8 q\/k permuted/);
    const again = cli("--peft", peft, "--model", fx.model, "--out", out);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /adapter\.gguf already exists; .*--force/);
    assert.equal(cli("--peft", peft, "--model", fx.model, "--out", out, "--force").status, 0);
    const missing = cli("--model", fx.model, "--out", out);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--peft must be given/);
    assert.deepEqual(readdirSync(join(dir, "cli")), ["adapter.gguf"], "no temp file left behind");
});
