// The real dataset language server as a child process over stdio: diagnostics as the user types, quick fixes,
// the preview's custom requests, token-length warnings with a real GGUF tokenizer, and responsiveness while a
// big file validates. Every wait is on a server message; nothing sleeps.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
    CodeActionRequest,
    CodeActionResolveRequest,
    DidChangeTextDocumentNotification,
    DidCloseTextDocumentNotification,
    type CodeAction,
    type Diagnostic,
    type TextEdit
} from "vscode-languageserver-protocol/node";
import { validateJsonl } from "../../sidecar/src/datasets/index";
import { bundledVocabPath } from "../../sidecar/src/tinyModel/bundleAssets";
import { DatasetRowsRequest, DatasetSummaryRequest } from "../../sidecar/src/protocol/languageServer";
import { codes, repoRoot, startServer, type ServerHarness } from "./languageServerHarness";

const chat = (user: string, assistant: string) => JSON.stringify({ messages: [{ role: "user", content: user }, { role: "assistant", content: assistant }] });

const BROKEN_LINES = [
    chat("Hi", "Hello"), //                                               0 valid
    '{"messages":[{"role":"user","content":"Hi"}', //                     1 LS001 invalid JSON
    JSON.stringify({ messages: [{ role: "user", content: "Only a question" }] }), // 2 LS201 nothing to train on
    chat("Hi", "Hello"), //                                               3 LS205 duplicate of line 1 (1-based)
    JSON.stringify({ instruction: "Add", input: "1+1", output: "2" }), // 4 LS206 mixed formats, convertible
    chat("Bye", "See you") //                                             5 valid
];
const BROKEN_TEXT = `${BROKEN_LINES.join("\n")}\n`;

const uriOf = (name: string) => pathToFileURL(join(repoRoot(), ".cache", "lsp-test", name)).href;
const at = (diagnostics: Diagnostic[], code: string) => diagnostics.filter((d) => d.code === code);

async function codeActionsAt(server: ServerHarness, uri: string, line: number, diagnostics: Diagnostic[]): Promise<CodeAction[]> {
    const result = await server.connection.sendRequest(CodeActionRequest.type, {
        textDocument: { uri },
        range: { start: { line, character: 0 }, end: { line, character: 0 } },
        context: { diagnostics: diagnostics.filter((d) => d.range.start.line === line) }
    });
    return (result ?? []).filter((a): a is CodeAction => "title" in a && !("command" in a && typeof a.command === "string"));
}

const onlyEdit = (action: CodeAction, uri: string): TextEdit => {
    const edits = action.edit?.changes?.[uri];
    assert.ok(edits && edits.length === 1, `"${action.title}" should carry exactly one edit`);
    return edits[0]!;
};

describe("dataset language server over stdio", () => {
    let server: ServerHarness;
    /** The last diagnostics published for broken.jsonl, which the code action requests hand back. */
    let latest: Diagnostic[] = [];
    before(async () => {
        server = await startServer({ maxDiagnosticsPerFile: 100 });
    });
    after(async () => {
        await server.stop();
    });

    test("publishes the core's diagnostics with codes, ranges, source and doc links", async () => {
        const uri = uriOf("broken.jsonl");
        server.open(uri, BROKEN_TEXT);
        const published = await server.diagnostics(uri);
        assert.equal(published.version, 1);
        const diagnostics = published.diagnostics;
        const docs = readFileSync(join(repoRoot(), "docs", "diagnostics.md"), "utf8");
        assert.deepEqual(at(diagnostics, "LS001").map((d) => d.range.start.line), [1]);
        assert.deepEqual(at(diagnostics, "LS201").map((d) => d.range.start.line), [2]);
        assert.deepEqual(at(diagnostics, "LS205").map((d) => d.range), [{ start: { line: 3, character: 0 }, end: { line: 3, character: BROKEN_LINES[3]!.length } }]);
        assert.match(at(diagnostics, "LS205")[0]!.message, /line 1\b/);
        assert.deepEqual(at(diagnostics, "LS206").map((d) => d.range.start.line), [4]);
        for (const d of diagnostics) {
            assert.equal(d.source, "lora-studio");
            const href = d.codeDescription?.href ?? "";
            assert.match(href, new RegExp(`docs/diagnostics\\.md#${String(d.code).toLowerCase()}-[a-z0-9-]+$`));
            // The anchor names a real heading of the docs.
            const heading = `## ${String(d.code)} ${href.slice(href.indexOf("#") + 2 + String(d.code).length)}`;
            assert.ok(docs.includes(heading), `docs/diagnostics.md has no heading "${heading}"`);
        }
        // The wiring adds and drops nothing: same codes and ranges as the pure core on the same text.
        const core = validateJsonl(BROKEN_TEXT, { maxDiagnostics: 100 }).diagnostics;
        assert.deepEqual(diagnostics.map((d) => [d.code, d.range]), core.map((d) => [d.code, d.range]));
        assert.deepEqual(diagnostics.map((d) => d.severity), core.map((d) => ({ error: 1, warning: 2, info: 3 })[d.severity]));
    });

    test("an incremental one-line change re-publishes updated diagnostics", async () => {
        const uri = uriOf("broken.jsonl");
        const fixedLine = chat("Hi there", "Hello!");
        await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
            textDocument: { uri, version: 2 },
            contentChanges: [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: BROKEN_LINES[1]!.length } }, text: fixedLine }]
        });
        const published = await server.diagnostics(uri, (p) => p.version === 2);
        assert.deepEqual(at(published.diagnostics, "LS001"), []);
        assert.deepEqual(codes(published.diagnostics).sort(), ["LS201", "LS205", "LS206"]);

        // A change that splits a line in two shifts everything below it: the duplicate moves to line 4 (0-based).
        await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
            textDocument: { uri, version: 3 },
            contentChanges: [{ range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, text: `${chat("New", "Line")}\n` }]
        });
        const shifted = await server.diagnostics(uri, (p) => p.version === 3);
        latest = shifted.diagnostics;
        assert.deepEqual(at(shifted.diagnostics, "LS205").map((d) => d.range.start.line), [4]);
        assert.deepEqual(at(shifted.diagnostics, "LS201").map((d) => d.range.start.line), [3]);
    });

    test("quick fixes: delete the duplicate line, convert a line and the whole file to chat", async () => {
        const uri = uriOf("broken.jsonl");
        const diagnostics = latest;
        const duplicateFix = (await codeActionsAt(server, uri, 4, diagnostics)).find((a) => a.kind === "quickfix" && /Delete duplicate/.test(a.title));
        assert.ok(duplicateFix, "a delete-duplicate quick fix on line 5");
        assert.deepEqual(onlyEdit(duplicateFix, uri), { range: { start: { line: 4, character: 0 }, end: { line: 5, character: 0 } }, newText: "" });

        const convert = (await codeActionsAt(server, uri, 5, diagnostics)).find((a) => a.kind === "quickfix" && /to chat/.test(a.title));
        assert.ok(convert, "a convert-to-chat quick fix on the instruction line");
        const converted = JSON.parse(onlyEdit(convert, uri).newText) as { messages: { role: string; content: string }[] };
        assert.deepEqual(converted.messages.map((m) => m.role), ["user", "assistant"]);
        assert.equal(converted.messages[1]!.content, "2");

        const wholeFile = (await codeActionsAt(server, uri, 0, [])).find((a) => /whole file/.test(a.title));
        assert.ok(wholeFile && !wholeFile.edit, "the whole-file conversion is offered unresolved");
        const resolved = await server.connection.sendRequest(CodeActionResolveRequest.type, wholeFile);
        const newText = onlyEdit(resolved, uri).newText;
        const newLines = newText.split("\n").filter((l) => l.trim() !== "");
        assert.ok(newLines.every((l) => !l.includes('"instruction"')), "no instruction line is left");
        assert.equal(newLines.filter((l) => l.includes('"Add\\n\\n1+1"')).length, 1);
    });

    test("preview requests: summary and paged rows agree with the document", async () => {
        const uri = uriOf("broken.jsonl");
        const summary = await server.connection.sendRequest(DatasetSummaryRequest.type, { uri });
        assert.equal(summary.version, 3);
        assert.equal(summary.format, "chat");
        assert.equal(summary.counts.error, 1); // the line with no assistant reply
        assert.equal(summary.counts.valid + summary.counts.warning + summary.counts.error, 7);
        assert.equal(summary.formats.instruction, 1);
        assert.equal(summary.roles.assistant, 6);
        assert.deepEqual(summary.duplicates, [{ line: 4, duplicateOf: 0 }]);
        assert.equal(summary.charHistogram.counts.reduce((a, b) => a + b, 0), 7);
        assert.equal(summary.tokenHistogram, null);
        assert.match(summary.tokenStatus, /loraStudio\.baseModel/);

        const page = await server.connection.sendRequest(DatasetRowsRequest.type, { uri, offset: 3, limit: 2 });
        assert.equal(page.total, summary.totalLines);
        assert.deepEqual(page.rows.map((r) => [r.line, r.severity, r.format]), [[3, "error", "chat"], [4, "warning", "chat"]]);
        assert.equal(page.rows[1]!.duplicateOf, 0);
    });

    test("a file that is not open is read from disk for the preview", async () => {
        const sample = join(repoRoot(), "package.json"); // any file: one JSON object on many lines
        const summary = await server.connection.sendRequest(DatasetSummaryRequest.type, { uri: pathToFileURL(sample).href });
        assert.equal(summary.version, null);
        assert.ok(summary.counts.error > 0, "a pretty-printed JSON file is not JSONL");
        await assert.rejects(server.connection.sendRequest(DatasetSummaryRequest.type, { uri: uriOf("does-not-exist.jsonl") }), /does not exist/);
    });

    test("closing a document clears its diagnostics", async () => {
        const uri = uriOf("broken.jsonl");
        await server.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
        const cleared = await server.diagnostics(uri, (p) => p.diagnostics.length === 0);
        assert.deepEqual(cleared.diagnostics, []);
    });

    test("keeps answering while a big file validates", async () => {
        const big = uriOf("big.jsonl");
        const small = uriOf("small.jsonl");
        const lines = Array.from({ length: 60_000 }, (_, i) => chat(`question ${i}`, `answer ${i}`));
        server.open(small, `${chat("a", "b")}\n`);
        await server.diagnostics(small);
        server.open(big, lines.join("\n"));
        // Sent right after the big open: answered between slices of the big file's validation, before its publish.
        const smallSummary = await server.connection.sendRequest(DatasetSummaryRequest.type, { uri: small });
        const bigPublishedBefore = server.events.some((e) => e.uri === big);
        assert.equal(smallSummary.counts.valid, 1);
        assert.equal(bigPublishedBefore, false, "the small request waited for the whole big validation");
        const bigDiagnostics = await server.diagnostics(big);
        assert.deepEqual(bigDiagnostics.diagnostics, []);
    });
});

describe("settings: per-glob formats and column mappings", () => {
    let server: ServerHarness;
    const SCIQ = { format: "qa" as const, fields: { question: "question", answer: "correct_answer", context: "support" } };
    before(async () => {
        server = await startServer({ columnMappings: { "**/sciq*.jsonl": SCIQ }, datasetFormats: [{ glob: "forced/*.jsonl", format: "chat" }] });
    });
    after(async () => {
        await server.stop();
    });

    test("a SciQ file validates with its own column names, and converts to chat", async () => {
        const uri = uriOf("sciq-train.jsonl");
        const line = JSON.stringify({ question: "What gas do plants absorb?", correct_answer: "carbon dioxide", support: "Plants use CO2." });
        server.open(uri, `${line}\n`);
        const published = await server.diagnostics(uri);
        assert.deepEqual(published.diagnostics.filter((d) => d.severity === 1), []);
        const summary = await server.connection.sendRequest(DatasetSummaryRequest.type, { uri });
        assert.equal(summary.format, "qa");
        const convert = (await codeActionsAt(server, uri, 0, [])).find((a) => /Convert line 1 to chat/.test(a.title));
        assert.ok(convert, "a convert-to-chat refactor for the SciQ line");
        const messages = (JSON.parse(onlyEdit(convert, uri).newText) as { messages: { role: string; content: string }[] }).messages;
        assert.equal(messages.at(-1)!.content, "carbon dioxide");
    });

    test("the same line without the mapping is an unknown format, and a forced format applies by glob", async () => {
        const line = JSON.stringify({ question: "Q?", correct_answer: "A", support: "S" });
        const plain = uriOf("other.jsonl");
        server.open(plain, line);
        assert.ok(codes((await server.diagnostics(plain)).diagnostics).some((c) => c.startsWith("LS1")), "a schema error without the mapping");
        const forced = pathToFileURL(join(repoRoot(), "forced", "data.jsonl")).href;
        server.open(forced, JSON.stringify({ instruction: "Add", output: "2" }));
        await server.diagnostics(forced);
        const summary = await server.connection.sendRequest(DatasetSummaryRequest.type, { uri: forced });
        assert.equal(summary.format, "chat");
        assert.equal(summary.counts.error, 1, "an instruction line in a file forced to chat is an error");
    });
});

describe("bad input never crashes or hangs the server", () => {
    let server: ServerHarness;
    before(async () => {
        server = await startServer({});
    });
    after(async () => {
        await server.stop();
    });

    test("a 10 MB line, 10k-deep nesting, NUL bytes, lone surrogates and an empty file all get diagnostics", async () => {
        const inputs: Record<string, { text: string; code: string }> = {
            "huge-line.jsonl": { text: `{"text":"${"x".repeat(10 * 1024 * 1024)}"}`, code: "LS009" },
            // Which code the core picks for 10k-deep nesting is its business (LS003, or LS009 first on a long line); an error it must be.
            "deep.jsonl": { text: `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`, code: "error" },
            "binary.jsonl": { text: "\u0000\u0001\u0002PK\u0003\u0004\u0000\n\u0000\u00ff", code: "LS006" },
            "surrogates.jsonl": { text: `{"text":"\ud800 broken"}\n${chat("a", "b")}`, code: "" },
            "empty.jsonl": { text: "", code: "LS011" }
        };
        for (const [name, { text }] of Object.entries(inputs)) server.open(uriOf(name), text);
        for (const [name, { code }] of Object.entries(inputs)) {
            const published = await server.diagnostics(uriOf(name));
            if (code === "error") assert.ok(published.diagnostics.some((d) => d.severity === 1), `${name}: expected an error, got ${codes(published.diagnostics).join(", ")}`);
            else if (code) assert.ok(codes(published.diagnostics).includes(code), `${name}: expected ${code}, got ${codes(published.diagnostics).join(", ")}`);
        }
        // Still answering afterwards.
        const summary = await server.connection.sendRequest(DatasetSummaryRequest.type, { uri: uriOf("huge-line.jsonl") });
        assert.equal(summary.totalLines, 1);
        assert.equal(server.child.exitCode, null, server.stderr());
    });

    test("a file on disk with invalid UTF-8 is previewed with its bytes reported", async () => {
        const dir = mkdtempSync(join(tmpdir(), "lora-studio-lsp-"));
        const path = join(dir, "latin1.jsonl");
        writeFileSync(path, Buffer.concat([Buffer.from('{"text":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
        try {
            const summary = await server.connection.sendRequest(DatasetSummaryRequest.type, { uri: pathToFileURL(path).href });
            assert.equal(summary.counts.error, 1);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("token-length warnings with a real GGUF tokenizer", () => {
    // A vocab-only GGUF from the pinned llama.cpp in node-llama-cpp's git bundle: a real tokenizer, no weights.
    const vocab = bundledVocabPath("llama-spm");
    let server: ServerHarness;
    before(async () => {
        server = await startServer({ baseModel: vocab, maxSequenceLength: 32 });
    });
    after(async () => {
        await server?.stop();
    });

    test("flags examples longer than maxSequenceLength as 'will be truncated'", async () => {
        const uri = uriOf("long.jsonl");
        const long = chat("Tell me a story.", "Once upon a time ".repeat(40));
        server.open(uri, [chat("Hi", "Hello"), long].join("\n"));
        const published = await server.diagnostics(uri, (p) => p.diagnostics.some((d) => d.code === "LS301"));
        const warnings = at(published.diagnostics, "LS301");
        assert.deepEqual(warnings.map((d) => d.range.start.line), [1]);
        assert.match(warnings[0]!.message, /will be truncated/);
        const tokens = Number(/has (\d+) tokens/.exec(warnings[0]!.message)?.[1]);
        assert.ok(tokens > 32 && tokens < long.length, `token count ${tokens} is between the limit and the character count`);

        const summary = await server.connection.sendRequest(DatasetSummaryRequest.type, { uri });
        assert.ok(summary.tokenHistogram, "a token histogram once the tokenizer is loaded");
        assert.equal(summary.truncatedLines, 1);
        assert.equal(summary.tokenHistogram.cutoff, 32);
        assert.equal(summary.tokenHistogram.counts.reduce((a, b) => a + b, 0), 2);
    });
});
