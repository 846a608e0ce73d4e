// The extension's one error helper (extension/src/errorMessage.ts), used by training, evaluation, export and chat:
// a sidecar refusal reads as its message then its hint; a run request's error as its own one-liner; others as is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ResponseError } from "vscode-jsonrpc";
import { describeError } from "../../../extension/src/errorMessage";
import { describeChatError } from "../../../extension/src/chat/chatClient";
import { RunRequestError } from "../../../extension/src/training/runController";

test("message then hint for a sidecar error; one line for a run request; the message otherwise", () => {
    assert.equal(describeError(new ResponseError(-32602, "model: x.gguf does not exist", { hint: "Pick a GGUF." })), "model: x.gguf does not exist Pick a GGUF.");
    assert.equal(describeError(new ResponseError(-32602, "no hint", { hint: "" })), "no hint");
    assert.equal(describeError(new RunRequestError("a.lora.json: invalid run config:\n  bad", "Fix it.", -32602)), "a.lora.json: invalid run config:; bad Fix it.");
    assert.equal(describeError(new Error("plain")), "plain");
    assert.equal(describeError("text"), "text");
    assert.equal(describeChatError, describeError, "chat uses the same helper");
});
