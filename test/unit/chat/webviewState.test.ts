// The chat panel's pure rules, shared by the webview and the extension: which columns answer in a mode,
// and what each column's model is told of the earlier conversation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type ChatExchange, columnsFor, historyFor } from "../../../sidecar/src/protocol/chatWebview";

test("columns: side by side needs an adapter; without one only the base answers", () => {
    assert.deepEqual(columnsFor({ mode: "side-by-side", adapter: "run/adapter.gguf" }), ["base", "tuned"]);
    assert.deepEqual(columnsFor({ mode: "tuned", adapter: "run/adapter.gguf" }), ["tuned"]);
    assert.deepEqual(columnsFor({ mode: "base", adapter: "run/adapter.gguf" }), ["base"]);
    assert.deepEqual(columnsFor({ mode: "side-by-side", adapter: "  " }), ["base"]);
    assert.deepEqual(columnsFor({ mode: "tuned", adapter: "" }), ["base"]);
});

test("history: each column replays its own complete or stopped answers, never failed or unfinished ones", () => {
    const exchanges: ChatExchange[] = [
        { id: "1", question: "q1", answers: { base: { text: "b1", state: "done" }, tuned: { text: "t1", state: "done" } } },
        { id: "2", question: "q2", answers: { base: { text: "b2 partial", state: "stopped" }, tuned: { text: "", state: "error", error: "sidecar died" } } },
        { id: "3", question: "q3", answers: { tuned: { text: "t3", state: "done" } } },
        { id: "4", question: "q4", answers: { base: { text: "b4", state: "streaming" } } }
    ];
    assert.deepEqual(historyFor(exchanges, "base"), [{ user: "q1", assistant: "b1" }, { user: "q2", assistant: "b2 partial" }]);
    assert.deepEqual(historyFor(exchanges, "tuned"), [{ user: "q1", assistant: "t1" }, { user: "q3", assistant: "t3" }]);
});
