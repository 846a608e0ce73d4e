// prepareDatasetFiles on real files and a real vocabulary: the summary the sidecar returns, and the up-front error
// listing every line that cannot be trained on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareDatasetFiles } from "../../sidecar/src/pipeline/prepareFiles";
import { packEpoch } from "../../sidecar/src/pipeline/prepare";
import { toMicroBatch } from "../../sidecar/src/pipeline/pack";
import { PipelineError } from "../../sidecar/src/pipeline/types";
import { fixtureModelPath, templateFixtures } from "../unit/pipeline/support/templateFixtures";

const qwen = templateFixtures.find((f) => f.name === "Qwen2.5")!;
const chat = (q: string, a: string): string => JSON.stringify({ messages: [{ role: "user", content: q }, { role: "assistant", content: a }] });

test("a dataset is prepared from files: counts, hash, leakage and engine batches", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "ls-pipeline-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const trainPath = join(dir, "train.jsonl");
    const valPath = join(dir, "val.jsonl");
    writeFileSync(trainPath, Array.from({ length: 10 }, (_, i) => chat(`What is ${i} + ${i}?`, `${2 * i}.`)).join("\n") + "\n");
    writeFileSync(valPath, [chat("What is 3 + 3?", "6."), JSON.stringify({ instruction: "Add 5 and 5.", output: "10." })].join("\n"));
    const { summary, prepared } = await prepareDatasetFiles({ modelPath: fixtureModelPath(qwen), trainPath, validationPath: valPath, seed: 3, sequenceLength: 128, truncation: "drop" });
    assert.equal(summary.trainExamples, 10);
    assert.equal(summary.validationExamples, 2);
    assert.equal(summary.leakedExamples, 1);
    assert.match(summary.datasetSha256, /^[0-9a-f]{64}$/);
    assert.ok(summary.sequences >= 1 && summary.sequences < 10, "short examples are packed together");
    const rows = packEpoch(prepared.train, 128, 3, 0);
    const labels = rows.reduce((n, r) => n + Array.from(toMicroBatch(r, { padTo: 128 }).labels).filter((l) => l >= 0).length, 0);
    assert.equal(labels, summary.trainableTokens, "every trainable token is exactly one label");
});

test("lines with nothing to train are reported with file and line before anything runs", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "ls-pipeline-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const trainPath = join(dir, "train.jsonl");
    writeFileSync(trainPath, [chat("a", "b"), JSON.stringify({ messages: [{ role: "system", content: "s" }, { role: "user", content: "u" }] })].join("\n"));
    await assert.rejects(prepareDatasetFiles({ modelPath: fixtureModelPath(qwen), trainPath, seed: 1, sequenceLength: 64, truncation: "drop" }),
        (err: unknown) => err instanceof PipelineError && err.issues.length === 1 && err.message.includes(`${trainPath}:2: no trainable tokens`));
});
