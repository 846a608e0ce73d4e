// One GGUF guard in front of every model load (issue 12.6): chat, eval, export, the language server, `lora-studio train`,
// run/start and run/resume refuse the same bad files with the same words — the file, the byte and the cause — before
// llama.cpp sees them. Also (12.9): a chat question longer than the context is refused, and an adapter trained on (or
// stamped for) another base of the same shape warns.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenCounter } from "../../extension/server/tokenizer";
import { ResponseError } from "vscode-jsonrpc";
import { baseFingerprint, recordedFingerprint, stampBaseFingerprint } from "../../sidecar/src/adapters/baseFingerprint";
import { openModelFile, readGguf } from "../../sidecar/src/gguf";
import { RunResumeRequest, RunStartRequest, SidecarErrorCode, type SidecarErrorData } from "../../sidecar/src/protocol/sidecar";
import { quantizedCachePath } from "../../sidecar/src/training/quantizedBase";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { factsAdapter, type FactsAdapter } from "../oracle/trainedAdapter";
import { spawnSync } from "node:child_process";
import { engineSkip } from "./engineHarness";
import { tempWorkspace, testSupervisor } from "./sidecarHarness";
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
    // A path no process can open: root reads any file whatever its mode, so the unreadable case is a symbolic-link loop.
    const loop = join(dir, "loop.gguf");
    symlinkSync(loop, loop);
    bad = [
        ["a tensor count one short", write("one-short.gguf", oneShort), /one-short\.gguf: not a valid GGUF file \(byte \d+\): .*no tensor accounts for/],
        ["a truncated download", write("truncated.gguf", bytes.subarray(0, bytes.length >> 1)), /truncated\.gguf: not a valid GGUF file \(byte \d+\): .*truncated/],
        ["NUL bytes", write("zeros.gguf", Buffer.alloc(4096)), /zeros\.gguf: not a valid GGUF file \(byte 0\): bad magic 0x00000000/],
        ["a text file", write("notes.gguf", "not a model\n"), /notes\.gguf: not a valid GGUF file \(byte 0\): bad magic/],
        ["a missing file", join(dir, "missing.gguf"), /missing\.gguf does not exist \(ENOENT\)/],
        ["a folder", folder, /folder\.gguf is a folder, not a GGUF file \(EISDIR\)/],
        ["an unreadable path", loop, /loop\.gguf cannot be opened: too many symbolic links \(ELOOP\)/],
        ["an adapter given as the base", fx.adapter, /is a LoRA adapter \(general\.type "adapter"\), not a base model/]
    ];
});

test("chat, eval and export refuse each bad base model the same way, naming the file, the byte and the cause", { timeout: 10 * 60_000 }, async (t) => {
    if (process.getuid?.() !== 0) {
        // Not root: a file without read permission is unreadable too (root would read it anyway).
        const locked = join(dir, "locked.gguf");
        copyFileSync(fx.model, locked);
        chmodSync(locked, 0);
        bad.push(["a file without read permission", locked, /locked\.gguf cannot be read: permission denied \(EACCES\)/]);
    }
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

test("lora-studio train refuses each bad base model as chat and export do, and makes no run folder", { skip: engineSkip, timeout: 10 * 60_000 }, async (t) => {
    for (const [label, path, pattern] of bad) {
        const out = join(dir, `train-${label.replace(/\W+/g, "-")}`);
        const r = await runCli(["train", "--model", path, "--data", fx.data, "--out", out, "--threads", "1"]);
        t.diagnostic(`${label}, train: ${r.stderr.trim().split("\n").slice(0, 2).join(" | ")}`);
        assert.equal(r.code, 1, `${label}: ${r.stderr}`);
        assert.match(r.stderr, pattern, label);
        assert.match(r.stderr, /\n {2}Fix model /, `${label}: the hint names the field`);
        assert.ok(!r.stderr.includes("\u0000"), `${label}: no raw NUL bytes`);
        assert.equal(existsSync(out), false, `${label}: no run folder`);
    }
});

test("run/start and run/resume refuse each bad base model with InvalidParams on the model field, in the same words", { skip: engineSkip, timeout: 10 * 60_000 }, async (t) => {
    const workspace = tempWorkspace("lora-studio-model-guard-");
    const { supervisor } = testSupervisor({ initializeParams: () => ({ workspaceRoot: workspace, workspaceTrusted: true }) });
    t.after(() => supervisor.stop());
    const refusal = async (request: Promise<unknown>, label: string, pattern: RegExp): Promise<void> => {
        await assert.rejects(request, (error: unknown) => {
            assert.ok(error instanceof ResponseError, `${label}: ${String(error)}`);
            assert.equal(error.code, SidecarErrorCode.InvalidParams, `${label}: ${error.message}`);
            assert.match(error.message, pattern, label);
            assert.deepEqual((error.data as SidecarErrorData).fields?.map((f) => f.path), [["model"]], label);
            return true;
        });
    };
    for (const [index, [label, path, pattern]] of bad.entries()) {
        await refusal(supervisor.sendRequest(RunStartRequest.type, { config: { model: path, data: fx.data } }), `${label}, run/start`, pattern);
        // A run whose base model went bad since it was cancelled: resume refuses it the same way.
        const runId = `20261201-00000${index}-abcd`;
        const run = join(workspace, ".lora-studio", "runs", runId);
        mkdirSync(run, { recursive: true });
        writeFileSync(join(run, "config.json"), JSON.stringify({ model: path, data: fx.data, epochs: 1 }));
        writeFileSync(join(run, "status.json"), JSON.stringify({ formatVersion: 1, runId, state: "cancelled", createdAt: "2026-12-01T00:00:00.000Z", updatedAt: "2026-12-01T00:00:00.000Z", step: 1, totalSteps: 4 }));
        await refusal(supervisor.sendRequest(RunResumeRequest.type, { runId }), `${label}, run/resume`, pattern);
        assert.equal(existsSync(join(run, "run.lock")), false, `${label}: the refused resume left its lock behind`);
    }
});

test("the language server's tokenizer refuses the same files with the same words", async () => {
    for (const [label, path, pattern] of bad) {
        // Checked before the guard, with its own "does not exist" (a link loop does not exist to existsSync either).
        if (label === "a missing file" || label === "an unreadable path") continue;
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

test("an adapter trained here records the user's base (not the quantized copy it trained on); another base of the same shape warns in chat and export", { skip: engineSkip, timeout: 15 * 60_000 }, async () => {
    const cache = join(dir, "quantized-cache");
    process.env.LORA_STUDIO_CACHE = cache; // inherited by the CLI and its sidecar
    const out = join(dir, "trained-here");
    const trained = await runCli(["train", "--model", fx.model, "--data", fx.data, "--out", out, "--epochs", "1", "--sequence-length", "64", "--threads", "2", "--quantize-base", "q8_0"]);
    delete process.env.LORA_STUDIO_CACHE;
    assert.equal(trained.code, 0, trained.stderr);
    const adapter = join(out, "adapter.gguf");
    const own = baseFingerprint(openModelFile(fx.model, { skipArraysOver: 4096 }));
    assert.deepEqual(recordedFingerprint(readGguf(adapter)), own, "the fingerprint of --model, the file the user names");
    const copy = quantizedCachePath(fx.model, "q8_0", cache);
    assert.ok(existsSync(copy), "training loaded the quantized copy");
    assert.notDeepEqual(baseFingerprint(readGguf(copy)), own, "whose fingerprint differs");

    const other = join(dir, "other-seed-for-trained.gguf");
    makeTinyModel({ out: other, quant: "f32", seed: 9 });
    const warning = /warning: the adapter .*trained-here\/adapter\.gguf was trained on ".*", a base of the same shape but other weights .*, not on .*other-seed-for-trained\.gguf/;
    const chatOwn = await runCli(["chat", "--model", fx.model, "--adapter", adapter, "--prompt", "hi", "--max-tokens", "4", "--threads", "1"]);
    assert.equal(chatOwn.code, 0, chatOwn.stderr);
    assert.ok(!chatOwn.stderr.includes("warning:"), chatOwn.stderr);
    const chatOther = await runCli(["chat", "--model", other, "--adapter", adapter, "--prompt", "hi", "--max-tokens", "4", "--threads", "1"]);
    assert.equal(chatOther.code, 0, chatOther.stderr);
    assert.match(chatOther.stderr, warning);
    const exportOwn = await runCli(["export", "--model", fx.model, "--adapter", adapter, "--format", "gguf-lora", "--out", join(dir, "trained-own.gguf")]);
    assert.equal(exportOwn.code, 0, exportOwn.stderr);
    assert.ok(!exportOwn.stderr.includes("warning:"), exportOwn.stderr);
    const exportOther = await runCli(["export", "--model", other, "--adapter", adapter, "--format", "gguf-lora", "--out", join(dir, "trained-other.gguf")]);
    assert.equal(exportOther.code, 0, exportOther.stderr);
    assert.match(exportOther.stderr, warning);
});
