// The @lora participant's history: VS Code's chat turns (request and response objects, as the chat API hands
// them over) become the sidecar's user/assistant turns; other participants, failed and empty answers are dropped.
import assert from "node:assert/strict";
import { test } from "node:test";
import { participantHistory, type RequestTurnLike, type ResponseTurnLike } from "../../../extension/src/chat/participantHandler";

const ME = "loraStudio.lora";
const ask = (prompt: string, participant = ME): RequestTurnLike => ({ participant, prompt });
/** Markdown parts carry a MarkdownString (`{ value }`), as vscode.ChatResponseMarkdownPart does. */
const reply = (parts: string[], participant = ME, errorDetails?: { message: string }): ResponseTurnLike => ({
    participant,
    response: parts.map((text) => ({ value: { value: text } })),
    result: errorDetails ? { errorDetails } : {}
});

test("pairs each of our requests with our streamed answer, oldest first", () => {
    const turns = participantHistory(ME, [ask("Who is Zorblat?"), reply(["A ", "purple ", "cat."]), ask("Its color?"), reply(["Purple."])]);
    assert.deepEqual(turns, [
        { user: "Who is Zorblat?", assistant: "A purple cat." },
        { user: "Its color?", assistant: "Purple." }
    ]);
});

test("leaves out other participants' turns, failed answers and empty answers", () => {
    const turns = participantHistory(ME, [
        ask("hello", "github.copilot.default"),
        reply(["Hi from another model"], "github.copilot.default"),
        ask("fails"),
        reply(["partial"], ME, { message: "LoRA Studio: the sidecar stopped" }),
        ask("empty"),
        reply(["  "]),
        ask("kept"),
        reply(["yes"])
    ]);
    assert.deepEqual(turns, [{ user: "kept", assistant: "yes" }]);
});

test("non-markdown parts add no text, and a response without its request is ignored", () => {
    const turns = participantHistory(ME, [
        reply(["orphan"]),
        ask("q"),
        { participant: ME, response: [{ uri: "file:///x" }, { value: { value: "a" } }, null, { value: "b" }], result: {} }
    ]);
    assert.deepEqual(turns, [{ user: "q", assistant: "ab" }]);
});
