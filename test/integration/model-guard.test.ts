// One GGUF guard in front of every model load (issue 12.6): chat, eval, export and the language server refuse the same
// bad files with the same words — the file, the byte and the cause — before llama.cpp sees them. Also (12.9): a chat
// question longer than the context is refused, and an adapter stamped for another base of the same shape warns.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenCounter } from "../../extension/server/tokenizer";
import { baseFingerprint, stampBaseFingerprint } from "../../sidecar/src/adapters/baseFingerprint";
import { readGguf } from "../../sidecar/src/gguf";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { factsAdapter, type FactsAdapter } from "../oracle/trainedAdapter";
import { spawnSync } from "node:child_process";
import { CLI, runCli } from "./trainCliHarness";

const dir = mkdtempSync(join(tmpdir(), "model-guard-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let fx: FactsAdapter;
/** Bad copies of the base model: [label, path, what the message must say]. */
let bad: Array<[string, string, RegExp]>;

before(async () => {
    fx = await factsAdapter();
    const bytes = readFileSync(fx.model);
    const write = (name: string, content: Buffer | string): string => {
        const path = join(dir, name);
        writeFileSync(path, content);
        return path;
    };
    const oneShort = Buffer.from(bytes);
    oneShort.writeBigUInt64LE(oneShort.readBigUInt64LE(8) - 1n, 8);
    const folder = join(dir, "folder.gguf");
    mkdirSync(folder);
    bad = [
        ["a tensor count one short", write("one-short.gguf", oneShort), /one-short\.gguf: not a valid GGUF file \(byte \d+\): .*no tensor accounts for/],
        ["a truncated download", write("truncated.gguf", bytes.subarray(0, bytes.length >> 1)), /truncated\.gguf: not a valid GGUF file \(byte \d+\): .*truncated/],
        ["NUL bytes", write("zeros.gguf", Buffer.alloc(4096)), /zeros\.gguf: not a valid GGUF file \(byte 0\): bad magic 0x00000000/],
        ["a text file", write("notes.gguf", "not a model\n"), /notes\.gguf: not a valid GGUF file \(byte 0\): bad magic/],
        ["a missing file", join(dir, "missing.gguf"), /missing\.gguf does not exist \(ENOENT\)/],
        ["a folder", folder, /folder\.gguf is a folder, not a GGUF file \(EISDIR\)/],
        ["an adapter given as the base", fx.adapter, /is a LoRA adapter \(general\.type "adapter"\), not a base model/]
    ];
});

test("chat, eval and export refuse each bad base model the same way, naming the file, the byte and the cause", { timeout: 10 * 60_000 }, async (t) => {
    for (const [label, path, pattern] of bad) {
        const chat = await runCli(["chat", "--model", path, "--prompt", "hi", "--threads", "1"]);
        const evaluation = await runCli(["eval", "--model", path, "--adapter", fx.adapter, "--data", fx.data, "--threads", "1"]);
        const exported = await runCli(["export", "--model", path, "--adapter", fx.adapter, "--format", "gguf-lora", "--out", join(dir, `out-${label.replace(/\W+/g, "-")}.gguf`)]);
        for (const [face, r] of [["chat", chat], ["eval", evaluation], ["export", exported]] as const) {
            t.diagnostic(`${label}, ${face}: ${r.stderr.trim().split("\n")[0]}`);
            assert.equal(r.code, 1, `${label}, ${face}: ${r.stderr}`);
            assert.match(r.stderr, pattern, `${label}, ${face}`);
            assert.ok(!r.stderr.includes("\u0000"), `${label}, ${face}: no raw NUL bytes`);
        }
    }
});

test("the language server's tokenizer refuses the same files with the same words", async () => {
    for (const [label, path, pattern] of bad) {
        if (label === "a missing file") continue; // checked before the guard, with its own "does not exist"
        await assert.rejects(TokenCounter.load(path), (e: unknown) => pattern.test((e as Error).message) && /^loraStudio\.baseModel: /.test((e as Error).message), label);
    }
});

test("a question longer than the context is refused with the numbers; a long conversation is cut with a warning", { timeout: 10 * 60_000 }, async () => {
    // A conversation over stdin whose exchanges outgrow a 256-token context: every question is answered, and the
    // CLI says once it no longer fits that the oldest exchanges are dropped.
    const question = "Tell me, in a few words, what the capital of Zorbia is and why it matters to the people there. ";
    const conversation = spawnSync(process.execPath, [CLI, "chat", "--model", fx.model, "--context-size", "256", "--max-tokens", "16", "--threads", "1"], {
        input: `${question}\n`.repeat(8), encoding: "utf8", timeout: 10 * 60_000
    });
    assert.equal(conversation.status, 0, conversation.stderr);
    assert.equal(conversation.stdout.trimEnd().split("\n").length, 8, "eight answers");
    assert.match(conversation.stderr, /warning: the conversation so far \(\d+ tokens with this question\) and an answer of up to 16 tokens exceed the context of 256 tokens, so the oldest exchanges are dropped/);

    const long = "Please tell me about Zorbia. ".repeat(60);
    const r = await runCli(["chat", "--model", fx.model, "--context-size", "128", "--max-tokens", "16", "--threads", "1", "--prompt", long]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the question is too long for the context: .* it is \d+ tokens, and with an answer of up to 16 tokens it needs \d+, but the context holds \d+; shorten it/);
});

test("an adapter stamped with its base's fingerprint warns on another base of the same shape, and not on its own", { timeout: 10 * 60_000 }, async () => {
    const stamped = join(dir, "stamped-adapter.gguf");
    copyFileSync(fx.adapter, stamped);
    stampBaseFingerprint(stamped, baseFingerprint(readGguf(fx.model)));
    const other = join(dir, "other-seed.gguf");
    const info = readGguf(fx.model);
    makeTinyModel({ out: other, quant: "f32", seed: 8 });
    assert.equal(readGguf(other).tensors.length, info.tensors.length, "the same shape");
    const own = await runCli(["chat", "--model", fx.model, "--adapter", stamped, "--prompt", fx.facts[0]!.question, "--max-tokens", "8", "--threads", "1"]);
    assert.equal(own.code, 0, own.stderr);
    assert.equal(own.stdout.trim(), fx.facts[0]!.answer);
    assert.ok(!own.stderr.includes("warning:"), own.stderr);
    const wrong = await runCli(["chat", "--model", other, "--adapter", stamped, "--prompt", fx.facts[0]!.question, "--max-tokens", "8", "--threads", "1"]);
    assert.equal(wrong.code, 0, wrong.stderr);
    assert.match(wrong.stderr, /warning: the adapter .*stamped-adapter\.gguf was trained on ".*", a base of the same shape but other weights/);
});
