// `lora-studio chat` as a user runs it: with --prompt it prints the answer and nothing else; without it, a
// conversation over stdin, where questions piped in at once are all answered in order and /reset forgets.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { factsAdapter } from "../oracle/trainedAdapter";
import { CLI, runCli } from "./trainCliHarness";
import { repoRoot } from "../oracle/torchReference";

function runInteractive(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: repoRoot(), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(stdin);
    return new Promise((settle, fail) => {
        child.on("error", fail);
        child.on("close", (code) => settle({ code, stdout, stderr }));
    });
}

test("lora-studio chat: --prompt prints only the answer; without it, a conversation over stdin", { timeout: 20 * 60_000 }, async () => {
    const { model, adapter, facts } = await factsAdapter();
    const [first, second] = [facts[0]!, facts[1]!];
    const common = ["chat", "--model", model, "--adapter", adapter, "--max-tokens", "8", "--threads", "1"];

    const once = await runCli([...common, "--prompt", first.question]);
    assert.equal(once.code, 0, once.stderr);
    assert.equal(once.stdout, `${first.answer}\n`, "stdout is the answer and a newline, nothing else");

    // All questions arrive before the model has loaded: none may be lost. Each is asked after a /reset, as in training.
    const conversation = await runInteractive(common, `${first.question}\n/reset\n${second.question}\n/reset\n${first.question}\n`);
    assert.equal(conversation.code, 0, conversation.stderr);
    assert.deepEqual(conversation.stdout.split("\n"), [first.answer, second.answer, first.answer, ""]);
});
