// Chat through the real sidecar process (dist/sidecar.mjs, real node-llama-cpp) as the chat panel drives it:
// a base and a tuned session on the facts adapter sharing one model, answers streamed as chat/token
// notifications, a fact answered exactly, stop in the middle of an answer, and bad adapters refused with an
// error that names both files. Every wait is on a response or a notification.
import assert from "node:assert/strict";
import { test } from "node:test";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ResponseError } from "vscode-jsonrpc";
import {
    ChatCloseRequest,
    ChatOpenRequest,
    type ChatOpenParams,
    ChatSendRequest,
    type ChatSendParams,
    ChatStopRequest,
    ChatTokenNotification,
    type ChatTokenParams,
    SidecarErrorCode
} from "../../sidecar/src/protocol/sidecar";
import type { SidecarSupervisor } from "../../extension/src/sidecar/supervisor";
import { factsAdapter } from "../oracle/trainedAdapter";
import { writeOtherBaseAdapter } from "./otherBaseAdapter";
import { tempWorkspace, testSupervisor } from "./sidecarHarness";

/** Loading and answering on the tiny model takes seconds; the supervisor kills a sidecar that stays silent longer. */
const CHAT_TIMEOUT_MS = 120_000;
const THREADS = 1;

async function open(supervisor: SidecarSupervisor, params: ChatOpenParams) {
    return supervisor.sendRequest(ChatOpenRequest.type, { threads: THREADS, ...params }, { timeoutMs: CHAT_TIMEOUT_MS });
}

/** Sends and collects the request's chat/token texts; `onFirstToken` runs once, at the first one. */
async function send(supervisor: SidecarSupervisor, params: ChatSendParams, onFirstToken?: () => void) {
    const texts: string[] = [];
    const subscription = supervisor.onNotification(ChatTokenNotification.type, (token: ChatTokenParams) => {
        if (token.requestId !== params.requestId) return;
        texts.push(token.text);
        if (texts.length === 1) onFirstToken?.();
    });
    try {
        const result = await supervisor.sendRequest(ChatSendRequest.type, params, { timeoutMs: CHAT_TIMEOUT_MS });
        return { ...result, texts };
    } finally {
        subscription.dispose();
    }
}

async function openError(supervisor: SidecarSupervisor, params: ChatOpenParams): Promise<ResponseError<unknown>> {
    try {
        await open(supervisor, params);
    } catch (error) {
        assert.ok(error instanceof ResponseError, `a typed JSON-RPC error, got ${String(error)}`);
        return error;
    }
    assert.fail(`chat/open ${JSON.stringify(params)} succeeded`);
}

test("chat over the sidecar: side by side on one model, streaming, a trained fact, stop, bad adapters", { timeout: 30 * 60_000 }, async (t) => {
    const { model, adapter, facts } = await factsAdapter();
    const { supervisor } = testSupervisor();
    try {
        const base = await open(supervisor, { model, contextSize: 2048 });
        const tuned = await open(supervisor, { model, adapter });
        assert.notEqual(base.sessionId, tuned.sessionId);
        assert.equal(base.sharedModel, false, "the first session loads the model");
        assert.equal(tuned.sharedModel, true, "the second session on the same file shares it");
        assert.match(tuned.templateName, /jinja/i, "the model's own template");

        // The fact with the longest answer, so that it streams in more than one piece.
        const fact = [...facts].sort((a, b) => b.answer.length - a.answer.length)[0]!;
        const answer = await send(supervisor, { sessionId: tuned.sessionId, requestId: "tuned-1", message: fact.question, maxTokens: 8 });
        t.diagnostic(`tuned: ${JSON.stringify(fact.question)} → ${JSON.stringify(answer.answer)} in ${answer.texts.length} pieces`);
        assert.equal(answer.answer.trim(), fact.answer, "the tuned model answers the trained fact exactly");
        assert.equal(answer.stopped, false);
        assert.ok(answer.texts.length >= 2, `streamed token by token: ${JSON.stringify(answer.texts)}`);
        assert.equal(answer.texts.join(""), answer.answer, "the chat/token texts concatenate to the answer");

        const baseAnswer = await send(supervisor, { sessionId: base.sessionId, requestId: "base-1", message: fact.question, maxTokens: 8 });
        t.diagnostic(`base: ${JSON.stringify(baseAnswer.answer)}`);
        assert.notEqual(baseAnswer.answer.trim(), fact.answer, "the untrained base does not know the fact");
        assert.equal(baseAnswer.texts.join(""), baseAnswer.answer);

        // Stop in the middle: the random base model rambles for up to 1500 tokens; stop it at its first piece.
        let stopResult: Promise<{ stopped: boolean }> | undefined;
        const long = await send(supervisor, { sessionId: base.sessionId, requestId: "base-long", message: "Tell me a long story.", maxTokens: 1500 }, () => {
            stopResult = supervisor.sendRequest(ChatStopRequest.type, { requestId: "base-long" });
        });
        assert.ok(stopResult, "tokens streamed before the answer");
        assert.deepEqual(await stopResult, { stopped: true }, "chat/stop found the running answer");
        assert.equal(long.stopped, true, "chat/send answers with what it had, marked stopped");
        assert.equal(long.texts.join(""), long.answer);
        t.diagnostic(`stopped after ${long.texts.length} pieces`);
        assert.deepEqual(await supervisor.sendRequest(ChatStopRequest.type, { requestId: "base-long" }), { stopped: false }, "nothing left to stop");

        // The session still answers after a stop, and after a replaced history (Regenerate).
        const again = await send(supervisor, { sessionId: tuned.sessionId, requestId: "tuned-2", message: fact.question, maxTokens: 8, history: [] });
        assert.equal(again.answer, answer.answer, "a fresh conversation answers as the first time");

        await supervisor.sendRequest(ChatCloseRequest.type, { sessionId: base.sessionId });
        await assert.rejects(
            supervisor.sendRequest(ChatSendRequest.type, { sessionId: base.sessionId, requestId: "closed", message: "hi" }),
            (error: unknown) => error instanceof ResponseError && error.code === SidecarErrorCode.ChatSessionNotFound
        );

        // Bad adapters: each error is ChatLoadFailed and names both files.
        const dir = tempWorkspace("lora-studio-chat-bad-");
        const missing = join(dir, "missing-adapter.gguf");
        const corrupt = join(dir, "corrupt-adapter.gguf");
        writeFileSync(corrupt, readFileSync(adapter).subarray(0, 4096)); // a download cut short
        const garbage = join(dir, "garbage-adapter.gguf");
        writeFileSync(garbage, "this is not a GGUF file at all\n".repeat(64));
        const otherBase = join(dir, "other-base-adapter.gguf");
        writeOtherBaseAdapter(otherBase);
        const modelAsAdapter = join(dir, "model-copy.gguf");
        copyFileSync(model, modelAsAdapter);
        for (const [label, bad, pattern] of [
            ["missing", missing, /does not exist/],
            ["truncated", corrupt, /not a valid GGUF|truncated/],
            ["not GGUF", garbage, /not a valid GGUF/],
            ["another base", otherBase, /another base model/],
            ["a model, not an adapter", modelAsAdapter, /not a LoRA adapter/]
        ] as const) {
            const error = await openError(supervisor, { model, adapter: bad });
            t.diagnostic(`${label}: ${error.message}`);
            assert.equal(error.code, SidecarErrorCode.ChatLoadFailed, `${label}: ${error.message}`);
            assert.ok(error.message.includes(bad), `${label}: names the adapter: ${error.message}`);
            assert.ok(error.message.includes(model), `${label}: names the base model: ${error.message}`);
            assert.match(error.message, pattern);
        }
        rmSync(dir, { recursive: true, force: true });
        // The sidecar survived every bad adapter and the tuned session still answers.
        const after = await send(supervisor, { sessionId: tuned.sessionId, requestId: "tuned-3", message: fact.question, maxTokens: 8, history: [] });
        assert.equal(after.answer.trim(), fact.answer);
    } finally {
        await supervisor.stop();
    }
});

test("chat/open is refused in an untrusted workspace", async () => {
    const { supervisor } = testSupervisor({ initializeParams: () => ({ workspaceRoot: tempWorkspace(), workspaceTrusted: false }) });
    try {
        await assert.rejects(
            supervisor.sendRequest(ChatOpenRequest.type, { model: "whatever.gguf" }),
            (error: unknown) => error instanceof ResponseError && error.code === SidecarErrorCode.WorkspaceUntrusted
        );
    } finally {
        await supervisor.stop();
    }
});
