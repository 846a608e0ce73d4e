// Examples longer than the sequence length, end to end on the tiny model: the run config's truncation decides, and
// every drop or cut is counted in `lora-studio train`'s output and summary, in dataset/prepare's answer, and in the
// progress view's snapshot (from the run's status.json); "fail" refuses to start, naming the line.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RunController } from "../../extension/src/training/runController";
import { DatasetPrepareRequest } from "../../sidecar/src/protocol/sidecar";
import { engineOrSkip } from "../oracle/engine";
import { fixturePath } from "../oracle/fixtures";
import { tempWorkspace, testSupervisor } from "./sidecarHarness";
import { runCli } from "./trainCliHarness";

const HANG_GUARD = { timeout: 300_000 };
const dir = tempWorkspace("over-length-");
const { supervisor } = testSupervisor({ initializeParams: () => ({ workspaceRoot: dir, workspaceTrusted: true }) });
const controller = new RunController(supervisor);
after(async () => {
    controller.dispose();
    await supervisor.stop();
});
const model = fixturePath("tiny-f32.gguf");
const chat = (user: string, assistant: string): string => JSON.stringify({ messages: [{ role: "user", content: user }, { role: "assistant", content: assistant }] });
const data = join(dir, "with-long.jsonl");
writeFileSync(data, `${[chat("Capital of Zorbia?", "Quell."), chat("Capital of Vel?", "Arno."), chat(`Summarize: ${"the quick brown fox ".repeat(40)}`, "A fox.")].join("\n")}\n`);

test("lora-studio train counts the example it left out, in its output and its summary; --truncation fail refuses", HANG_GUARD, async (t) => {
    if (!(await engineOrSkip(t))) return;
    const trained = await runCli(["train", "--model", model, "--data", data, "--out", join(dir, "cli-run"), "--epochs", "1", "--sequence-length", "64", "--threads", "2"]);
    assert.equal(trained.code, 0, `${trained.stdout}\n${trained.stderr}`);
    assert.match(trained.stdout, /^examples longer than the sequence length 64: 1 left out \(truncation "drop"\); the log above names each one$/m);
    assert.match(trained.stdout, /^data: examples longer than the sequence length 64: 1 left out \(truncation "drop"\)$/m);
    assert.match(trained.stderr, /with-long\.jsonl:3: \d+ tokens is longer than the sequence length 64; left out \(truncation policy "drop"\) \[too-long-dropped\]/);
    const status = JSON.parse(readFileSync(join(dir, "cli-run", "status.json"), "utf8")) as { overLength?: { dropped: number; truncated: number } };
    assert.deepEqual([status.overLength?.dropped, status.overLength?.truncated], [1, 0]);

    const cut = await runCli(["train", "--model", model, "--data", data, "--out", join(dir, "cli-cut"), "--epochs", "1", "--sequence-length", "64", "--threads", "2", "--truncation", "truncate-left"]);
    assert.equal(cut.code, 0, cut.stderr);
    assert.match(cut.stdout, /^data: examples longer than the sequence length 64: 1 cut to 64 tokens \(truncation "truncate-left"\)$/m);

    const refused = await runCli(["train", "--model", model, "--data", data, "--out", join(dir, "cli-fail"), "--sequence-length", "64", "--truncation", "fail"]);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /with-long\.jsonl:3: \d+ tokens is longer than the sequence length 64, and the run config's truncation is "fail" \[too-long\]/);
});

test("dataset/prepare and the progress view's snapshot say how many examples were too long", HANG_GUARD, async (t) => {
    if (!(await engineOrSkip(t))) return;
    const prepared = await supervisor.sendRequest(DatasetPrepareRequest.type, { model, data, contextLength: 64 });
    assert.deepEqual([prepared.overLength?.dropped, prepared.overLength?.truncated, prepared.overLength?.policy], [1, 0, "drop"]);
    assert.match(prepared.overLength!.examples[0]!, /with-long\.jsonl:3: /);
    assert.equal((await supervisor.sendRequest(DatasetPrepareRequest.type, { model, data, contextLength: 2048 })).overLength, undefined, "nothing to say when all fit");

    const started = await controller.start({ model, data, epochs: 1, sequenceLength: 64, threads: 2 }, join(dir, "run.lora.json"));
    assert.equal(started.overLength?.dropped, 1);
    const snapshot = await controller.snapshot(started.runId);
    assert.equal(snapshot.dataNote, 'Examples longer than the sequence length 64: 1 left out (truncation "drop"); the LoRA Studio Sidecar output names each one.');
});
