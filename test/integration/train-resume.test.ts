// Cancel then resume: `lora-studio train` interrupted with SIGINT (what Ctrl+C sends) saves a checkpoint and the
// adapter; `lora-studio train --resume DIR` continues, and the whole loss sequence equals that of an
// uninterrupted run with the same seed, value for value. A finished run resumed is left alone unless asked for more
// epochs.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineOrSkip } from "../oracle/engine";
import { fixturePath } from "../oracle/fixtures";
import { FACT_RECIPE, readLosses, runCli, writeFactSet } from "./trainCliHarness";

const dir = mkdtempSync(join(tmpdir(), "train-resume-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("cancel mid-run, then resume: the loss sequence equals an uninterrupted run's", async (t) => {
    if (!(await engineOrSkip(t))) return;
    const model = fixturePath("tiny-f32.gguf");
    const data = join(dir, "facts.jsonl");
    writeFactSet(data, 12);
    // Small on purpose: six epochs of 12 facts, a checkpoint every 4 steps, so the cancel lands between two.
    // Dropout on: the SIGINT usually lands inside a step, whose dropout draw must not count, so the resumed run
    // has to reproduce the uninterrupted run's masks as well as its weights.
    const args = (out: string): string[] => ["train", "--model", model, "--data", data, "--out", out, "--epochs", "6", "--checkpoint-every", "4", "--seed", "7", "--dropout", "0.05", ...FACT_RECIPE];

    const straight = await runCli(args(join(dir, "straight")));
    assert.equal(straight.code, 0, `${straight.stdout}\n${straight.stderr}`);
    const expected = readLosses(join(dir, "straight", "metrics.jsonl"));
    assert.ok(expected.length >= 8, `enough steps to interrupt: ${expected.length}`);

    const out = join(dir, "interrupted");
    const cancelAt = Math.floor(expected.length / 2) + 1;
    let sent = false;
    const cancelled = await runCli(args(out), (line, child) => {
        const step = /^step (\d+)\//.exec(line);
        if (!sent && step && Number(step[1]) >= cancelAt) {
            sent = true;
            child.kill("SIGINT");
        }
    });
    assert.ok(sent, `the run printed step ${cancelAt}:\n${cancelled.stdout}`);
    assert.equal(cancelled.code, 130, `cancel exits 130:\n${cancelled.stdout}\n${cancelled.stderr}`);
    assert.match(cancelled.stdout, /cancelled after \d+ steps/);
    assert.ok(existsSync(join(out, "adapter.gguf")), "cancel writes the adapter");
    const status = JSON.parse(readFileSync(join(out, "status.json"), "utf8")) as { state: string; step: number; lastCheckpointStep?: number };
    assert.equal(status.state, "cancelled");
    assert.ok(status.step < expected.length, `cancelled before the end (step ${status.step} of ${expected.length})`);
    assert.equal(status.lastCheckpointStep, status.step, "cancel checkpoints the step it stopped at");

    const resumed = await runCli(["train", "--resume", out]);
    assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
    assert.match(resumed.stdout, new RegExp(`from step ${status.step} of ${expected.length}`));
    assert.deepEqual(readLosses(join(out, "metrics.jsonl")), expected, "resumed run's (step, loss) sequence equals the uninterrupted run's");
});

test("--resume of a finished run says it is finished and changes nothing; --epochs trains it further", async (t) => {
    if (!(await engineOrSkip(t))) return;
    const out = join(dir, "straight");
    if (!existsSync(join(out, "status.json"))) return t.skip("needs the finished run of the test above");
    const files = ["status.json", "metrics.jsonl", "adapter.gguf", "config.json"];
    const snapshot = () => files.map((f) => readFileSync(join(out, f)).toString("base64"));
    const before = snapshot();
    const firstLosses = readLosses(join(out, "metrics.jsonl"));
    const steps = firstLosses.length;

    const again = await runCli(["train", "--resume", out]);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.match(again.stdout, new RegExp(`is finished \\(step ${steps}, 6 epochs\\); nothing to resume, and nothing was changed\\. To train it further, resume with more epochs than 6`));
    assert.deepEqual(snapshot(), before, "status, metrics, adapter and config are byte-identical");

    const further = await runCli(["train", "--resume", out, "--epochs", "8"]);
    assert.equal(further.code, 0, `${further.stdout}\n${further.stderr}`);
    assert.match(further.stdout, new RegExp(`resuming .* from step ${steps} of \\d+`));
    const losses = readLosses(join(out, "metrics.jsonl"));
    assert.ok(losses.length > steps, "it trained more steps");
    assert.deepEqual(losses.map((l) => l.step), losses.map((_, i) => i + 1), "every step once");
    assert.deepEqual(losses.slice(0, steps), firstLosses, "the steps it had trained are kept as they were");
    assert.equal((JSON.parse(readFileSync(join(out, "status.json"), "utf8")) as { state: string }).state, "finished");
});
