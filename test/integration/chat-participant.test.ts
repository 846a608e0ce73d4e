// The @lora chat participant's handler against the real sidecar (dist/sidecar.mjs, real node-llama-cpp) and the
// facts adapter. VS Code's chat UI is absent in code-server, so the handler is driven directly with objects shaped
// like the chat API's (a real vscode-jsonrpc CancellationTokenSource stands in for VS Code's identical one).
import assert from "node:assert/strict";
import { test } from "node:test";
import { join } from "node:path";
import { CancellationTokenSource } from "vscode-jsonrpc";
import { ChatClient } from "../../extension/src/chat/chatClient";
import { createParticipantHandler, NO_MODEL_MESSAGE, type ParticipantHandler } from "../../extension/src/chat/participantHandler";
import { factsAdapter } from "../oracle/trainedAdapter";
import { tempWorkspace, testSupervisor } from "./sidecarHarness";

const ID = "loraStudio.lora";

async function ask(handler: ParticipantHandler, prompt: string, onPiece?: (piece: string, source: CancellationTokenSource) => void) {
    const pieces: string[] = [];
    const source = new CancellationTokenSource();
    const result = await handler({ prompt }, { history: [] }, { markdown: (text) => { pieces.push(text); onPiece?.(text, source); } }, source.token);
    return { result, pieces, text: pieces.join("") };
}

test("@lora participant: answers a trained fact from the newest run, streams, stops on cancel, reports bad adapters", { timeout: 30 * 60_000 }, async (t) => {
    const { model, adapter, facts } = await factsAdapter();
    const { supervisor } = testSupervisor();
    const client = new ChatClient(supervisor);
    let target: { model: string; adapter: string } | undefined = { model, adapter };
    const handler = createParticipantHandler(ID, client, async () => target, () => 1);
    try {
        const fact = [...facts].sort((a, b) => b.answer.length - a.answer.length)[0]!;
        const tuned = await ask(handler, fact.question);
        t.diagnostic(`tuned: ${JSON.stringify(fact.question)} → ${JSON.stringify(tuned.text)} in ${tuned.pieces.length} pieces`);
        assert.equal(tuned.result.errorDetails, undefined);
        assert.deepEqual(tuned.result.metadata, { stopped: false });
        assert.equal(tuned.text.trim(), fact.answer, "the tuned model answers the trained fact exactly");
        assert.ok(tuned.pieces.length >= 2, `streamed piece by piece: ${JSON.stringify(tuned.pieces)}`);

        // The base model alone (no finished run, base model setting): it rambles; cancel at the first piece.
        target = { model, adapter: "" };
        const base = await ask(handler, "Tell me a long story.", (_piece, source) => source.cancel());
        t.diagnostic(`base, cancelled after ${base.pieces.length} pieces: ${JSON.stringify(base.text)}`);
        assert.equal(base.result.errorDetails, undefined);
        assert.deepEqual(base.result.metadata, { stopped: true }, "the cancellation stopped the answer");
        assert.notEqual(base.text.trim(), fact.answer);

        // An adapter that is not one: the turn fails with an error naming both files, and nothing is streamed.
        target = { model, adapter: model };
        const bad = await ask(handler, fact.question);
        t.diagnostic(`bad adapter: ${bad.result.errorDetails?.message ?? "(no error)"}`);
        assert.ok(bad.result.errorDetails, "a failed turn");
        assert.ok(bad.result.errorDetails.message.includes(model), bad.result.errorDetails.message);
        assert.match(bad.result.errorDetails.message, /not a LoRA adapter/);
        assert.deepEqual(bad.pieces, []);

        // No run and no base model: a hint, and no sidecar request.
        target = undefined;
        const none = await ask(handler, fact.question);
        assert.equal(none.text, NO_MODEL_MESSAGE);

        // The tuned session is reused and still answers the same.
        target = { model, adapter };
        const again = await ask(handler, fact.question);
        assert.equal(again.text, tuned.text);
    } finally {
        await client.dispose();
        await supervisor.stop();
    }
});

test("@lora participant: a request already cancelled sends nothing to the sidecar", async () => {
    const { supervisor } = testSupervisor();
    const client = new ChatClient(supervisor);
    const handler = createParticipantHandler(ID, client, async () => ({ model: join(tempWorkspace(), "absent.gguf"), adapter: "" }), () => 1);
    const source = new CancellationTokenSource();
    source.cancel();
    const pieces: string[] = [];
    const result = await handler({ prompt: "hi" }, { history: [] }, { markdown: (text) => pieces.push(text) }, source.token);
    assert.deepEqual(result, { metadata: { stopped: true } });
    assert.deepEqual(pieces, []);
    assert.equal(supervisor.state, "stopped", "the sidecar was never started");
    await supervisor.stop();
});
