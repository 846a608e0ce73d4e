// `lora-studio validate --model M [--sequence-length N] [--truncation P] [--json]`: the language server's token checks
// (LS301, LS302) from the command line, with the model's real tokenizer, at the exact limit and one token under it.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countExampleTokens } from "../../sidecar/src/datasets/tokenChecks";
import { loadVocabModel } from "../../sidecar/src/pipeline/llamaTokenizer";
import { fixturePath } from "../oracle/fixtures";
import { runCli } from "./trainCliHarness";

const dir = mkdtempSync(join(tmpdir(), "validate-tokens-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const model = fixturePath("tiny-f32.gguf");
const chat = (user: string, assistant: string): string => JSON.stringify({ messages: [{ role: "user", content: user }, { role: "assistant", content: assistant }] });

interface JsonReport {
    files: Array<{ path: string; diagnostics: Array<{ line: number; code: string; severity: string; message: string }> }>;
}

test("validate --model: LS301 warns one token over the sequence length and not at it; LS302 names a reply cut off", { timeout: 120_000 }, async () => {
    const short = chat("What is the capital of Zorbia?", "Quell.");
    const long = chat(`Summarize: ${"the quick brown fox jumps over the lazy dog ".repeat(20)}`, "A fox jumps.");
    const data = join(dir, "data.jsonl");
    writeFileSync(data, `${short}\n${long}\n`);
    // The count the check makes, with the same tokenizer: content tokens plus the per-message allowance.
    const vocab = await loadVocabModel(model);
    let tokens: number;
    try {
        tokens = countExampleTokens(long, { format: undefined, mapping: undefined }, { count: (t) => vocab.tokenizer.tokenize(t, false).length });
    } finally {
        await vocab.dispose();
    }
    const validate = async (...extra: string[]): Promise<JsonReport["files"][number]["diagnostics"]> => {
        const r = await runCli(["validate", data, "--model", model, "--json", ...extra]);
        assert.ok(r.code === 0 || r.code === 1, r.stderr);
        return (JSON.parse(r.stdout) as JsonReport).files[0]!.diagnostics;
    };
    assert.deepEqual((await validate("--sequence-length", String(tokens))).filter((d) => d.code === "LS301"), [], `${tokens} tokens fit a sequence length of ${tokens}`);
    const over = (await validate("--sequence-length", String(tokens - 1))).filter((d) => d.code === "LS301");
    assert.deepEqual(over.map((d) => d.line), [2]);
    assert.match(over[0]!.message, new RegExp(`has ${tokens} tokens, more than loraStudio\\.training\\.sequenceLength \\(${tokens - 1}\\)`));

    // A prompt that fills the sequence: cut from the right, the reply is gone (LS302, an error: exit 1).
    const cut = await runCli(["validate", data, "--model", model, "--sequence-length", "64", "--truncation", "truncate-right"]);
    assert.equal(cut.code, 1, cut.stderr);
    assert.match(cut.stdout, /data\.jsonl:2:1: error: This example trains on nothing: no trainable tokens left after truncation "truncate-right" to 64 tokens.* \[LS302\]/);
    assert.match(cut.stdout, /data\.jsonl:2:1: warning: This example has \d+ tokens, more than .*\(64\).* \[LS301\]/);
    assert.doesNotMatch(cut.stdout, /data\.jsonl:1:/, "the short line is fine");

    // Without --model the token checks do not run, and their flags say they need it.
    const plain = await runCli(["validate", data, "--json"]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual((JSON.parse(plain.stdout) as JsonReport).files[0]!.diagnostics.filter((d) => d.code.startsWith("LS30")), []);
    const usage = await runCli(["validate", data, "--sequence-length", "64"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--sequence-length and --truncation need --model/);
});
