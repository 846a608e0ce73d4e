// The built CLI refuses out-of-range numbers before it loads anything (issue 12.2): `chat --max-tokens 0`, -1 and 1e9
// hung at full CPU with no output; now each exits 2 at once with the flag and the range. No model is needed: the
// check runs first, so the paths below need not exist.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import runConfigSchema from "../../../schemas/run-config.schema.json";
import { TRAIN_PARAMS } from "../../../sidecar/src/params/commands";
import { checkParams, ParamError } from "../../../sidecar/src/params/schema";
import { resolveRunConfig } from "../../../sidecar/src/training/resolveRunConfig";
import { repoRoot } from "../support/repoRoot";

const cli = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, "bin", "lora-studio.mjs"), ...args], { encoding: "utf8", timeout: 60_000 });

const cases: Array<[string[], RegExp]> = [
    [["chat", "--model", "m.gguf", "--prompt", "hi", "--max-tokens", "0"], /--max-tokens must be an integer from 1 to 1024 \(the context size\), got 0/],
    [["chat", "--model", "m.gguf", "--prompt", "hi", "--max-tokens", "-1"], /--max-tokens must be an integer from 1 to 1024 \(the context size\), got -1/],
    [["chat", "--model", "m.gguf", "--prompt", "hi", "--max-tokens", "1e9"], /--max-tokens must be an integer from 1 to 1024 \(the context size\), got 1000000000/],
    [["chat", "--model", "m.gguf", "--context-size", "4096", "--max-tokens", "5000"], /--max-tokens must be an integer from 1 to 4096 \(the context size\), got 5000/],
    [["chat", "--model", "m.gguf", "--threads", "100000"], /--threads must be an integer from 0 to \d+ \(this machine's logical CPUs\), got 100000/],
    [["chat", "--model", "m.gguf", "--temperature", "abc"], /--temperature must be a number from 0 to 10, got "abc"/],
    [["eval", "--model", "m", "--adapter", "a", "--data", "d", "--max-tokens", "0"], /--max-tokens must be an integer from 1 to/],
    [["eval", "--model", "m", "--adapter", "a", "--data", "d", "--limit", "2.5"], /--limit must be an integer from 1 to 10000000, got 2.5/],
    [["export", "--model", "m", "--adapter", "a", "--out", "o", "--format", "zip"], /--format must be one of gguf-lora, merged, ollama, peft, axolotl, got "zip"/],
    [["validate", "x.jsonl", "--max-diagnostics", "-3"], /--max-diagnostics must be an integer from 1 to 1000000, got -3/],
    [["train", "--model", "m", "--data", "d", "--out", "o", "--rank", "0"], /--rank must be an integer from 1 to 1024, got 0/],
    [["train", "--model", "m", "--data", "d", "--out", "o", "--lr", "0"], /--lr must be a number above 0 and at most 1, got 0/],
    [["train", "--model", "m", "--data", "d", "--out", "o", "--epochs", "1.5"], /--epochs must be an integer from 1 to 100000, got 1.5/],
    [["train", "--model", "m", "--data", "d", "--out", "o", "--sequence-length", "-1"], /--sequence-length must be an integer from 16 to 131072, got -1/],
    [["train", "--model", "m", "--data", "d", "--out", "o", "--truncation", "cut"], /--truncation must be one of drop, truncate-left, truncate-right, fail, got "cut"/],
    [["train", "--resume", "runs/x", "--epochs", "0"], /--epochs must be an integer from 1 to 100000, got 0/]
];

for (const [args, message] of cases) {
    test(`lora-studio ${args.join(" ")} exits 2 at once naming the flag and its range`, () => {
        const r = cli(...args);
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.match(r.stderr, /Usage: lora-studio /);
    });
}

test("every train flag that sets a run-config field has that field's range: the CLI and the run config accept the same values", () => {
    const errors = (field: string, value: unknown): number =>
        resolveRunConfig({ value: { model: "/m.gguf", data: "/d.jsonl", [field]: value } }, { file: "x.lora.json" }).problems.filter((p) => p.severity === "error").length;
    const cliAccepts = (field: string, value: unknown): boolean => {
        try {
            checkParams(TRAIN_PARAMS, { [field]: value }, { face: { face: "cli" } });
            return true;
        } catch (error) {
            assert.ok(error instanceof ParamError, String(error));
            return false;
        }
    };
    let compared = 0;
    for (const [field, spec] of Object.entries(TRAIN_PARAMS)) {
        if (!(field in runConfigSchema.properties) || spec.kind === "path") continue;
        const candidates: unknown[] = spec.kind === "enum" ? [...spec.values, "bogus"]
            : spec.kind === "integer" ? [spec.min - 1, spec.min, spec.min + 0.5, spec.max, (spec.max as number) + 1]
            : spec.kind === "number" ? [spec.min - 1e-6, spec.min, spec.min + 1e-6, spec.max - 1e-6, spec.max, spec.max + 1e-6] : [];
        for (const value of candidates) {
            assert.equal(cliAccepts(field, value), errors(field, value) === 0, `--${spec.flag} ${String(value)}: the CLI and the run-config schema disagree`);
            compared++;
        }
    }
    assert.ok(compared >= 60, `${compared} values compared`);
});

test("the usage of chat, eval, export, validate and train lists every flag with its range, from the schema", () => {
    const usage = cli("chat", "--help").stdout;
    assert.match(usage, /--max-tokens N\s+longest answer in tokens .*\[integer from 1 to the context size\]/);
    assert.match(usage, /--top-p P\s+nucleus sampling threshold \[number from 0 to 1\]/);
    assert.match(cli("export", "--help").stdout, /--force\s+replace an existing file/);
    assert.match(cli("train", "--help").stdout, /--lr X\s+learning rate \(default 0\.0002\) \[number above 0 and at most 1\]/);
});
