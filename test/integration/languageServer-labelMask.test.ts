// The label-mask preview and LS302 through the real dataset language server (a child process over stdio), with a
// real tokenizer and chat template: Qwen2.5's vocabulary-only GGUF carrying its template (test fixture), loaded by
// the server with node-llama-cpp as `loraStudio.baseModel`. Every wait is on a server message.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DatasetLinePreviewRequest, type LineMaskPreview } from "../../sidecar/src/protocol/languageServer";
import { fixtureModelPath, templateFixtures } from "../unit/pipeline/support/templateFixtures";
import { repoRoot, startServer, type ServerHarness } from "./languageServerHarness";

const chat = (user: string, assistant: string) => JSON.stringify({ messages: [{ role: "user", content: user }, { role: "assistant", content: assistant }] });
const uriOf = (name: string) => pathToFileURL(join(repoRoot(), ".cache", "lsp-test", name)).href;
const qwen = templateFixtures.find((f) => f.name === "Qwen2.5")!;
const MAX_LENGTH = 128;

const LINES = [
    chat("What is the capital of Zorbia?", "Quillport."), //                 0 fine
    chat(`Summarize: ${"the quick brown fox jumps over the lazy dog ".repeat(40)}`, "A fox jumps."), // 1 prompt fills the length: LS302
    JSON.stringify({ messages: [{ role: "user", content: "No answer" }] }), // 2 LS201 (validator), not LS302
    "" //                                                                    end of file
];

const joined = (preview: LineMaskPreview, pick: (t: LineMaskPreview["sequences"][0][0]) => boolean) =>
    preview.sequences.flat().filter(pick).map((t) => t.text).join("");

describe("label-mask preview with a real chat template and tokenizer", () => {
    let server: ServerHarness;
    const uri = uriOf("mask.jsonl");
    before(async () => {
        server = await startServer({ baseModel: fixtureModelPath(qwen), maxSequenceLength: MAX_LENGTH, truncation: "truncate-right" });
        server.open(uri, LINES.join("\n"));
    });
    after(async () => {
        await server?.stop();
    });

    test("a line whose reply truncation cuts off entirely gets LS302; lines without a reply keep LS201 only", { timeout: 120_000 }, async () => {
        const published = await server.diagnostics(uri, (p) => p.diagnostics.some((d) => d.code === "LS302"));
        const ls302 = published.diagnostics.filter((d) => d.code === "LS302");
        assert.deepEqual(ls302.map((d) => d.range.start.line), [1]);
        assert.equal(ls302[0]!.severity, 1, "an error");
        assert.match(ls302[0]!.message, /trains on nothing/);
        assert.match(ls302[0]!.message, /truncate-right/);
        assert.deepEqual(published.diagnostics.filter((d) => d.range.start.line === 2).map((d) => d.code), ["LS201"]);
    });

    test("selecting a line shows its tokens: the reply and Qwen's end token trained, the rest masked", async () => {
        const preview = await server.connection.sendRequest(DatasetLinePreviewRequest.type, { uri, line: 0 });
        assert.equal(preview.status, "ok", preview.message);
        assert.equal(joined(preview, (t) => t.trained), `Quillport.${qwen.endOfTurn}`);
        assert.equal(preview.trainableTokens, preview.sequences.flat().filter((t) => t.trained).length);
        assert.ok(joined(preview, (t) => !t.trained).includes("What is the capital of Zorbia?"), "the prompt is shown, masked");
        assert.equal(preview.totalTokens, preview.sequences.flat().length);
        assert.ok(preview.totalTokens <= MAX_LENGTH && preview.sequences.flat().every((t) => !t.cut));
        assert.deepEqual([preview.maxSequenceLength, preview.truncation], [MAX_LENGTH, "truncate-right"]);
    });

    test("the truncated line shows the cut tokens and zero trainable tokens, with the reason", async () => {
        const preview = await server.connection.sendRequest(DatasetLinePreviewRequest.type, { uri, line: 1 });
        assert.equal(preview.status, "ok");
        assert.equal(preview.trainableTokens, 0);
        assert.match(preview.message, /no trainable tokens left after truncation/);
        const tokens = preview.sequences.flat();
        assert.equal(tokens.filter((t) => !t.cut).length, MAX_LENGTH);
        assert.ok(joined(preview, (t) => t.cut).includes(`A fox jumps.${qwen.endOfTurn}`), "the reply is among the cut tokens");
    });

    test("a blank or missing line says so", async () => {
        const blank = await server.connection.sendRequest(DatasetLinePreviewRequest.type, { uri, line: 3 });
        assert.equal(blank.status, "line-error");
        const missing = await server.connection.sendRequest(DatasetLinePreviewRequest.type, { uri, line: 99 });
        assert.equal(missing.status, "line-error");
    });
});

describe("label-mask preview without a base model", () => {
    let server: ServerHarness;
    before(async () => {
        server = await startServer({});
    });
    after(async () => {
        await server?.stop();
    });

    test("the answer says how to set loraStudio.baseModel, and no LS302 is published", { timeout: 60_000 }, async () => {
        const uri = uriOf("mask-none.jsonl");
        server.open(uri, LINES.join("\n"));
        const published = await server.diagnostics(uri);
        assert.ok(!published.diagnostics.some((d) => d.code === "LS302"));
        const preview = await server.connection.sendRequest(DatasetLinePreviewRequest.type, { uri, line: 0 });
        assert.equal(preview.status, "no-model");
        assert.match(preview.message, /Set loraStudio\.baseModel/);
        assert.equal(preview.sequences.length, 0);
    });
});
