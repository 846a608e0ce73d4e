// previewImport shows what importDataset writes (the same lines), an AbortSignal stops an import with nothing left
// behind, and existing: "refuse" keeps an existing output (the editor asks before replacing it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImportCancelledError, ImportTargetExistsError } from "../../../sidecar/src/import/errors";
import { previewImport } from "../../../sidecar/src/import/preview";
import { importDataset } from "../../../sidecar/src/import/run";

function alpacaJsonl(): { dir: string; input: string } {
    const dir = mkdtempSync(join(tmpdir(), "lora-studio-import-preview-"));
    const input = join(dir, "alpaca.jsonl");
    const rows = [
        { instruction: "Add.", input: "2 + 2", output: "4" },
        { instruction: "Name a colour.", input: "", output: "Blue" },
        { instruction: "Say hi.", input: "in French", output: "Salut" }
    ];
    writeFileSync(input, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    return { dir, input };
}

test("previewImport returns the detected preset and the first lines exactly as importDataset writes them", async () => {
    const { dir, input } = alpacaJsonl();
    const preview = await previewImport(input, { system: "Be brief." }, 2);
    assert.equal(preview.format, "jsonl");
    assert.equal(preview.detected, "alpaca");
    assert.deepEqual(preview.candidates, ["alpaca"]);
    assert.deepEqual(preview.description, ["mapping: Alpaca", "system ← Be brief.", "user ← {instruction}\\n\\n{input}", "assistant ← {output}"]);
    assert.deepEqual(readdirSync(dir), ["alpaca.jsonl"], "a preview writes nothing");
    const out = join(dir, "out.jsonl");
    await importDataset({ input, out, system: "Be brief." });
    const written = readFileSync(out, "utf8").split("\n");
    assert.deepEqual(preview.lines, written.slice(0, 2));
    // The empty {input} line is left out of the second example.
    assert.deepEqual(JSON.parse(preview.lines[1]!).messages[1], { role: "user", content: "Name a colour." });
});

test("an aborted signal stops the import and leaves no output or temporary file", async () => {
    const { dir, input } = alpacaJsonl();
    const abort = new AbortController();
    let rows = 0;
    await assert.rejects(
        importDataset({ input, out: join(dir, "out.jsonl"), signal: abort.signal, onMapping: () => abort.abort(), onProgress: (p) => (rows = p.rows) }),
        ImportCancelledError
    );
    assert.equal(rows, 0);
    assert.deepEqual(readdirSync(dir), ["alpaca.jsonl"]);
});

test("existing: refuse keeps an existing output; the default replaces it", async () => {
    const { dir, input } = alpacaJsonl();
    const out = join(dir, "out.jsonl");
    writeFileSync(out, "keep me\n");
    await assert.rejects(importDataset({ input, out, existing: "refuse" }), (e: Error) => e instanceof ImportTargetExistsError && e.message === `${out} already exists`);
    // Both outputs are named at once, so the editor asks one question.
    const heldOut = join(dir, "held.jsonl");
    writeFileSync(heldOut, "keep me too\n");
    await assert.rejects(importDataset({ input, out, heldOut, split: 0.5, existing: "refuse" }), (e: Error) => e instanceof ImportTargetExistsError && e.message === `${out} and ${heldOut} already exist`);
    assert.equal(readFileSync(heldOut, "utf8"), "keep me too\n");
    assert.equal(readFileSync(out, "utf8"), "keep me\n");
    const result = await importDataset({ input, out });
    assert.equal(result.written, 3);
});
