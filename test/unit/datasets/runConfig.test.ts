// Run config diagnostics (`*.lora.json`): the pure checker against text and a fake file system, one case per code,
// with exact ranges; docs/diagnostics.md documents every code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { checkRunConfig, RUN_CONFIG_CODES, type RunConfigProbe } from "../../../sidecar/src/datasets/runConfig";
import type { DatasetDiagnostic } from "../../../sidecar/src/datasets/types";
import { repoRoot } from "./helpers";

const DIR = resolve("/work-config/project");
const GGUF = Uint8Array.from([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]);
const SAFETENSORS = Uint8Array.from([0x08, 0x01, 0x00, 0x00, 0x7b, 0x22]);

/** A fake file system: path (absolute) → file bytes, or "dir". */
function probe(files: Record<string, Uint8Array | "dir">): RunConfigProbe {
    return {
        kind: (path) => (files[path] === undefined ? "missing" : files[path] === "dir" ? "directory" : "file"),
        head: (path, length) => {
            const f = files[path];
            return f === undefined || f === "dir" ? undefined : f.slice(0, length);
        }
    };
}

const FILES = probe({
    [join(DIR, "models", "base.gguf")]: GGUF,
    [join(DIR, "models", "model.safetensors")]: SAFETENSORS,
    [join(DIR, "data", "train.jsonl")]: new Uint8Array(),
    [join(DIR, "data", "val.jsonl")]: new Uint8Array(),
    [join(DIR, "data")]: "dir"
});

function check(text: string): DatasetDiagnostic[] {
    return checkRunConfig(text, DIR, FILES, resolve);
}

/** The text a diagnostic's range covers (ranges may span lines). */
function covered(text: string, d: DatasetDiagnostic): string {
    const lines = text.split("\n");
    const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
    return text.slice(offset(d.range.start), offset(d.range.end));
}

const config = (fields: Record<string, unknown>) => JSON.stringify(fields, null, 4);
const GOOD = { model: "models/base.gguf", data: "data/train.jsonl", epochs: 2 };

test("a good config has no diagnostics; paths resolve against the config's folder", () => {
    assert.deepEqual(check(config(GOOD)), []);
    assert.deepEqual(check(config({ ...GOOD, validationData: "./data/val.jsonl", rank: 8, truncation: "truncate-left" })), []);
    // The same relative paths from another folder do not exist.
    assert.deepEqual(checkRunConfig(config(GOOD), join(DIR, "data"), FILES, resolve).map((d) => d.code), ["RC201", "RC201"]);
});

test("RC001: syntax errors at their character, on the right line", () => {
    const text = '{\n    "model": "models/base.gguf",\n    "data": "data/train.jsonl",\n}\n';
    const [d, ...rest] = check(text);
    assert.equal(rest.length, 0);
    assert.equal(d!.code, "RC001");
    assert.deepEqual(d!.range.start, { line: 3, character: 0 });
    assert.match(d!.message, /Trailing comma/);
    assert.equal(check("")[0]!.code, "RC001");
    assert.equal(check(`${"[".repeat(10_000)}`)[0]!.code, "RC001");
});

test("RC002: not an object", () => {
    assert.deepEqual(check("[1, 2]").map((d) => [d.code, d.severity]), [["RC002", "error"]]);
});

test("RC101–RC104: schema errors on the exact key or value", () => {
    const text = config({ model: "models/base.gguf", data: "data/train.jsonl", epoch: 3, rank: "16", lrSchedule: "step", learningRate: 2, targetModules: ["attn_q", "lm_head"] });
    const byCode = check(text).map((d) => `${d.code} ${covered(text, d)}`);
    assert.deepEqual(byCode.sort(), [
        'RC101 "epoch"',
        'RC103 "16"',
        "RC104 2",
        'RC104 "lm_head"',
        'RC104 "step"'
    ].sort());
    const unknown = check(text).find((d) => d.code === "RC101")!;
    assert.match(unknown.message, /did you mean "epochs"/);
    const missing = check(config({ model: "models/base.gguf" }));
    assert.deepEqual(missing.map((d) => [d.code, d.range.start.line, d.range.start.character]), [["RC102", 0, 0]]);
    assert.match(missing[0]!.message, /"data"/);
});

test("RC201: missing files and folders; RC202: a model that is not a GGUF", () => {
    const text = config({ model: "models/model.safetensors", data: "data", validationData: "data/nope.jsonl" });
    const diagnostics = check(text);
    assert.deepEqual(diagnostics.map((d) => `${d.code} ${covered(text, d)}`), [
        'RC202 "models/model.safetensors"',
        'RC201 "data"',
        'RC201 "data/nope.jsonl"'
    ]);
    assert.match(diagnostics[1]!.message, /is a folder/);
    assert.match(diagnostics[2]!.message, /does not exist/);
    assert.ok(diagnostics[2]!.message.includes(join(DIR, "data", "nope.jsonl")), "the message names the resolved path");
    // A missing model is RC201, not RC202 too.
    assert.deepEqual(check(config({ ...GOOD, model: "gone.gguf" })).map((d) => d.code), ["RC201"]);
});

test("RC203: validationSplit next to validationData is a warning on the split's key", () => {
    const text = config({ ...GOOD, validationData: "data/val.jsonl", validationSplit: 0.1 });
    const [d, ...rest] = check(text);
    assert.equal(rest.length, 0);
    assert.deepEqual([d!.code, d!.severity, covered(text, d!)], ["RC203", "warning", '"validationSplit"']);
});

test("docs/diagnostics.md documents every run config code", () => {
    const doc = readFileSync(join(repoRoot(), "docs", "diagnostics.md"), "utf8");
    for (const [code, info] of Object.entries(RUN_CONFIG_CODES)) {
        assert.match(doc, new RegExp(`^## ${code} ${info.title}$`, "m"), `docs/diagnostics.md lacks a "## ${code} ${info.title}" heading`);
    }
});
