// How Choose Base Model and the wizard label models/list's answer (issue 14): found models grouped by source with their
// header facts and trainability, unreadable ones with the reason and refused, then the catalogue's models with the
// download size and the preset's memory estimate.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ModelsListResult } from "../../../sidecar/src/protocol/sidecar";
import type { FoundModel } from "../../../sidecar/src/protocol/models";
import { describeFoundModel, describeOffer, modelPickEntries } from "../../../extension/src/models/modelPickItems";

const facts = { architecture: "llama", parameterCount: 1.24e9, quantization: "Q4_K_M", contextLength: 131072, fileBytes: 808e6, trainable: true };
const ollama: FoundModel = { source: "ollama", name: "llama3.2:1b", path: "/o/blobs/sha256-1", readable: true, facts };
const moe: FoundModel = { source: "workspace", name: "m/mixtral.gguf", path: "/ws/m/mixtral.gguf", readable: true, facts: { ...facts, trainable: false, notTrainableReason: "it is a mixture-of-experts model (8 experts)" } };
const broken: FoundModel = { source: "huggingface", name: "org/repo/x.gguf", path: "/hf/x.gguf", readable: false, reason: "/hf/x.gguf: not a GGUF file (magic 'PK\\x03\\x04')" };
const offer = {
    id: "qwen2.5-0.5b-instruct", label: "Qwen2.5-0.5B-Instruct", uri: "hf:b/Q-GGUF/q.gguf", downloadBytes: 0.4e9, parameters: 0.494e9, contextLength: 32768,
    architecture: "qwen2", memory: { totalBytes: 3.5 * 2 ** 30, presetMemoryBytes: 6 * 2 ** 30, fits: true }
};
const list: ModelsListResult = { models: [moe, ollama, broken], searched: [], downloadFolder: "/home/u/.node-llama-cpp/models", preset: "gpu-6gb", notDownloaded: [offer] };

test("a found model shows architecture, parameters, quantization, context and size, and whether it trains", () => {
    const ok = describeFoundModel(ollama);
    assert.equal(ok.label, "llama3.2:1b");
    assert.equal(ok.description, "llama · 1.24B params · Q4_K_M · ctx 131072 · 808 MB");
    assert.match(ok.detail, /trainable · \/o\/blobs\/sha256-1/);
    assert.equal(ok.refusal, undefined);
    const no = describeFoundModel(moe);
    assert.match(no.detail, /cannot be trained: it is a mixture-of-experts model \(8 experts\)/);
    assert.match(no.refusal ?? "", /m\/mixtral.gguf cannot be trained: it is a mixture-of-experts/);
});

test("an unreadable file is listed with its reason and refused when picked", () => {
    const e = describeFoundModel(broken);
    assert.equal(e.description, "unreadable");
    assert.equal(e.detail, broken.readable ? "" : broken.reason);
    assert.match(e.refusal ?? "", /\/hf\/x.gguf cannot be read as a GGUF model: .*not a GGUF file/);
});

test("a catalogue model shows its download size and the preset's memory estimate before anything downloads", () => {
    const e = describeOffer(offer, "gpu-6gb");
    assert.match(e.description, /not downloaded · qwen2 · 494M params · Q4_K_M · ≈ 400 MB download/);
    assert.equal(e.detail, "$(check) needs ≈ 3.5 GiB of the GPU 6 GB preset's 6.0 GiB");
    const big = describeOffer({ ...offer, memory: { totalBytes: 9 * 2 ** 30, presetMemoryBytes: 6 * 2 ** 30, fits: false } }, "gpu-6gb");
    assert.match(big.detail, /^\$\(warning\) needs ≈ 9.0 GiB .*: too large for it$/);
});

test("entries come grouped by source in list order, then the catalogue; skipped sources and the catalogue can be left out", () => {
    const shape = (entries: ReturnType<typeof modelPickEntries>): string[] => entries.map((e) => (e.kind === "separator" ? `-- ${e.label}` : e.kind === "model" ? e.model.name : e.offer.id));
    assert.deepEqual(shape(modelPickEntries(list, { catalogue: true })), [
        "-- Workspace", "m/mixtral.gguf", "-- Ollama", "llama3.2:1b", "-- Hugging Face cache", "org/repo/x.gguf", "-- Catalogue (not downloaded)", "qwen2.5-0.5b-instruct"
    ]);
    assert.deepEqual(shape(modelPickEntries(list, { catalogue: false, skipSources: ["workspace"] })), ["-- Ollama", "llama3.2:1b", "-- Hugging Face cache", "org/repo/x.gguf"]);
    assert.deepEqual(shape(modelPickEntries({ ...list, models: [] }, { catalogue: false })), []);
});
