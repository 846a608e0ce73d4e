// `lora-studio eval` as a user runs it (the real bin/lora-studio.mjs, real node-llama-cpp) on the facts adapter:
// the tuned model answers the trained facts, the base model does not, the reference loss drops, and the report
// files are written; a run folder's validation split is evaluated by --run; bad adapters are refused with an
// error naming both files.
import assert from "node:assert/strict";
import { test } from "node:test";
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EvalReport } from "../../sidecar/src/protocol/sidecar";
import { CSV_COLUMNS } from "../../sidecar/src/eval/reportFiles";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { factsAdapter } from "../oracle/trainedAdapter";
import { tempWorkspace } from "./sidecarHarness";
import { runCli } from "./trainCliHarness";

/** The tiny model answers fastest on one thread; eight tokens hold any one-word fact. */
const FAST = ["--threads", "1", "--max-tokens", "8"];

function parseReport(stdout: string): EvalReport {
    return JSON.parse(stdout) as EvalReport;
}

test("lora-studio eval --json: the tuned model answers the facts, the base model does not, report files written", { timeout: 30 * 60_000 }, async () => {
    const facts = await factsAdapter();
    const out = join(tempWorkspace("lora-studio-eval-"), "reports");
    const r = await runCli(["eval", "--model", facts.model, "--adapter", facts.adapter, "--data", facts.data, "--json", "--out", out, ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    const report = parseReport(r.stdout);

    assert.equal(report.rows.length, facts.facts.length);
    assert.equal(report.skipped.length, 0);
    assert.equal(report.cancelled, false);
    assert.equal(report.source, "file");
    report.rows.forEach((row, i) => {
        assert.equal(row.line, i + 1, "rows keep their dataset lines");
        assert.equal(row.question, facts.facts[i]!.question);
        assert.equal(row.reference, facts.facts[i]!.answer);
    });
    const { em, f1, loss, yesNo } = report.summary;
    assert.ok(em.tuned >= 0.9, `tuned exact match ${em.tuned} < 0.9: ${JSON.stringify(report.rows.map((row) => [row.reference, row.tuned]))}`);
    assert.ok(em.base <= em.tuned - 0.5, `base exact match ${em.base} is not well below tuned ${em.tuned}`);
    assert.ok(f1.tuned >= em.tuned, "F1 is at least exact match");
    assert.ok(loss.tuned < loss.base, `the reference loss should drop with the adapter: ${JSON.stringify(loss)}`);
    assert.equal(yesNo, null, "no reference is yes/no/maybe");
    assert.ok(report.summary.lossTokens >= facts.facts.length, "every answer has at least one target token");

    // The files: the same report as printed, and one CSV line per row under the documented header.
    assert.ok(report.files, "the report names its files");
    assert.deepEqual(readdirSync(out).sort(), [report.files.csv, report.files.json].map((f) => f.slice(out.length + 1)).sort());
    assert.deepEqual(JSON.parse(readFileSync(report.files.json, "utf8")), report);
    const csv = readFileSync(report.files.csv, "utf8").trimEnd().split("\r\n");
    assert.equal(csv[0], CSV_COLUMNS.join(","));
    assert.equal(csv.length, facts.facts.length + 1);
    assert.ok(csv[1]!.includes(`,${facts.facts[0]!.answer},`), csv[1]);
});

test("lora-studio eval prints a before/after table and the summary", { timeout: 30 * 60_000 }, async () => {
    const facts = await factsAdapter();
    const out = tempWorkspace("lora-studio-eval-");
    const r = await runCli(["eval", "--model", facts.model, "--adapter", facts.adapter, "--data", facts.data, "--limit", "3", "--out", out, ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.match(lines[0]!, /line\s+reference\s+base\s+tuned/);
    for (const fact of facts.facts.slice(0, 3)) assert.ok(lines.some((l) => l.includes(fact.answer)), `a row for ${fact.answer}`);
    assert.match(r.stdout, /^3 examples from facts24\.jsonl$/m);
    assert.match(r.stdout, /^exact match\s+\d+\.\d%\s+\d+\.\d%$/m);
    assert.match(r.stdout, /^loss \(nats\/token\)/m);
    assert.match(r.stdout, /report: .*eval-\d{8}T\d{6}Z(-\d+)?\.json/);
});

test("lora-studio eval --run: the run's validation split, the report in the run folder", { timeout: 30 * 60_000 }, async () => {
    const facts = await factsAdapter();
    const run = tempWorkspace("lora-studio-eval-run-");
    copyFileSync(facts.adapter, join(run, "adapter.gguf"));
    // A run config as training writes it: absolute paths; a quarter of the 24 lines held out.
    writeFileSync(join(run, "config.json"), JSON.stringify({ model: facts.model, data: facts.data, validationSplit: 0.25, sequenceLength: 128 }));
    const r = await runCli(["eval", "--run", run, "--json", ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    const report = parseReport(r.stdout);
    assert.equal(report.source, "validation-split");
    assert.deepEqual(report.data, [facts.data]);
    assert.equal(report.rows.length, 6, "round(24 × 0.25) validation examples");
    const lines = report.rows.map((row) => row.line);
    assert.equal(new Set(lines).size, 6);
    for (const line of lines) assert.equal(report.rows.find((row) => row.line === line)!.reference, facts.facts[line - 1]!.answer);
    assert.ok(report.files && report.files.json.startsWith(run), `report written into the run folder, got ${report.files?.json}`);

    // A run without a validation split says so and names its config.
    writeFileSync(join(run, "config.json"), JSON.stringify({ model: facts.model, data: facts.data, validationSplit: 0 }));
    const none = await runCli(["eval", "--run", run, ...FAST]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /has no validation split/);
    assert.ok(none.stderr.includes(join(run, "config.json")), none.stderr);
});

test("lora-studio eval refuses missing, corrupt and mismatched adapters, naming both files", { timeout: 30 * 60_000 }, async () => {
    const facts = await factsAdapter();
    const dir = tempWorkspace("lora-studio-eval-bad-");
    const evalWith = (model: string, adapter: string) => runCli(["eval", "--model", model, "--adapter", adapter, "--data", facts.data, "--out", dir, ...FAST]);
    const assertNamesBoth = (stderr: string, model: string, adapter: string, detail: RegExp): void => {
        assert.ok(stderr.includes(adapter), `names the adapter: ${stderr}`);
        assert.ok(stderr.includes(model), `names the base model: ${stderr}`);
        assert.match(stderr, detail);
    };

    const missing = join(dir, "missing.gguf");
    const r1 = await evalWith(facts.model, missing);
    assert.equal(r1.code, 1);
    assertNamesBoth(r1.stderr, facts.model, missing, /does not exist/);

    const corrupt = join(dir, "corrupt.gguf");
    writeFileSync(corrupt, readFileSync(facts.adapter).subarray(0, 4096)); // a truncated download
    const r2 = await evalWith(facts.model, corrupt);
    assert.equal(r2.code, 1);
    assertNamesBoth(r2.stderr, facts.model, corrupt, /not a readable GGUF file/);

    const otherBase = join(dir, "narrow.gguf");
    makeTinyModel({ out: otherBase, quant: "f32", shape: { nLayer: 2, nFf: 512 } }); // same attention, narrower feed-forward
    const r3 = await evalWith(otherBase, facts.adapter);
    assert.equal(r3.code, 1);
    assertNamesBoth(r3.stderr, otherBase, facts.adapter, /trained on another base model/);

    const notAnAdapter = await evalWith(facts.model, facts.model);
    assert.equal(notAnAdapter.code, 1);
    assert.match(notAnAdapter.stderr, /not a LoRA adapter/);

    assert.ok(readdirSync(dir).every((f) => !f.startsWith("eval-")), "no report for a refused evaluation");
});
