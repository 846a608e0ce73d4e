// Run configs (`*.lora.json`) through the real dataset language server over stdio: schema errors on exact ranges,
// paths checked on the real file system relative to the config's folder, the model's architecture and the targets
// checked from its GGUF header, live re-checks as the user types.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DidChangeTextDocumentNotification, DidCloseTextDocumentNotification, type Diagnostic } from "vscode-languageserver-protocol/node";
import { repoRoot, startServer, type ServerHarness } from "./languageServerHarness";
import { SMALL_SHAPE, writeArchBase } from "../unit/support/archModels";

const summary = (diagnostics: Diagnostic[]) => diagnostics.map((d) => `${d.range.start.line}:${d.range.start.character} ${String(d.code)}`).sort();

describe("run config diagnostics over stdio", () => {
    let server: ServerHarness;
    let dir: string;
    before(async () => {
        mkdirSync(join(repoRoot(), ".cache"), { recursive: true });
        dir = mkdtempSync(join(repoRoot(), ".cache", "lsp-run-config-"));
        mkdirSync(join(dir, "data"));
        writeFileSync(join(dir, "base.gguf"), Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(28)]));
        writeFileSync(join(dir, "model.bin"), Buffer.from("PK\u0003\u0004 not a gguf"));
        writeFileSync(join(dir, "data", "train.jsonl"), '{"text":"x"}\n');
        server = await startServer({});
    });
    after(async () => {
        await server?.stop();
        rmSync(dir, { recursive: true, force: true });
    });

    test("a config with problems gets every code on its exact place; fixing it clears them; closing clears all", { timeout: 60_000 }, async () => {
        const uri = pathToFileURL(join(dir, "run.lora.json")).href;
        const text = [
            "{", //                                               0
            '    "model": "model.bin",', //                       1 RC202 (not a GGUF)
            '    "data": "data/train.jsonl",', //                 2 fine (relative to the config's folder)
            '    "validationData": "data/missing.jsonl",', //     3 RC201
            '    "validationSplit": 0.1,', //                     4 RC203
            '    "epoch": 3,', //                                 5 RC101
            '    "rank": "16"', //                                6 RC103
            "}"
        ].join("\n");
        server.open(uri, text);
        const first = await server.diagnostics(uri);
        assert.deepEqual(summary(first.diagnostics), ["1:13 RC202", "3:22 RC201", "4:4 RC203", "5:4 RC101", "6:12 RC103"].sort());
        const rc202 = first.diagnostics.find((d) => d.code === "RC202")!;
        assert.equal(rc202.range.end.character, '    "model": "model.bin"'.length);
        assert.equal(rc202.severity, 1);
        assert.match(rc202.codeDescription?.href ?? "", /diagnostics\.md#rc202-model-not-gguf$/);

        // The user fixes it: a full-text change (the harness's client sends whole documents).
        const fixed = JSON.stringify({ model: "base.gguf", data: "data/train.jsonl", validationSplit: 0.1, epochs: 3, rank: 16 }, null, 4);
        await server.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 2 }, contentChanges: [{ text: fixed }] });
        const second = await server.diagnostics(uri, (p) => p.version === 2);
        assert.deepEqual(second.diagnostics, []);

        // A syntax error mid-edit lands on its character.
        await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
            textDocument: { uri, version: 3 },
            contentChanges: [{ range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, text: "    oops\n" }]
        });
        const third = await server.diagnostics(uri, (p) => p.version === 3);
        assert.deepEqual(summary(third.diagnostics), ["2:4 RC001"]);

        await server.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
        assert.deepEqual((await server.diagnostics(uri)).diagnostics, []);
    });

    test("a model the engine cannot train is flagged on its value; replacing the file re-reads its header", { timeout: 60_000 }, async () => {
        const model = join(dir, "moe.gguf");
        writeArchBase(model, "llama", { kv: { "llama.expert_count": { type: "u32", value: 8 } } });
        const uri = pathToFileURL(join(dir, "moe.lora.json")).href;
        const text = JSON.stringify({ model: "moe.gguf", data: "data/train.jsonl", targetModules: ["attn_q", "attn_qkv"] }, null, 4);
        server.open(uri, text);
        const first = await server.diagnostics(uri);
        assert.deepEqual(summary(first.diagnostics), ["1:13 RC204"]);
        assert.match(first.diagnostics[0]!.message, /moe\.gguf cannot be trained: architecture 'llama' here is a mixture-of-experts model \(8 experts\).*LoRA Studio trains llama, qwen2/);
        assert.match(first.diagnostics[0]!.codeDescription?.href ?? "", /diagnostics\.md#rc204-model-not-trainable$/);

        // The user swaps in a dense model under the same name: the header is read again, the targets are checked.
        writeArchBase(model, "llama", { shape: { ...SMALL_SHAPE, nFf: 32 } });
        await server.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 2 }, contentChanges: [{ text: `${text}\n` }] });
        const second = await server.diagnostics(uri, (p) => p.version === 2);
        assert.deepEqual(summary(second.diagnostics), ["5:8 RC206"]);
        assert.match(second.diagnostics[0]!.message, /targetModules\[1\] "attn_qkv": 'attn_qkv' is a fused target, and llama models have separate projections: use attn_q, attn_k and attn_v/);
        await server.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
    });

    test("a .jsonl next to it is still validated as a dataset", { timeout: 60_000 }, async () => {
        const uri = pathToFileURL(join(dir, "data.jsonl")).href;
        server.open(uri, '{"text": 1}\n');
        const published = await server.diagnostics(uri);
        assert.deepEqual(published.diagnostics.map((d) => d.code), ["LS102"]);
    });
});
