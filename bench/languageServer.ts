// Language server timings on a generated 200k-line chat file (about 50 MB), against bare JSON.parse of the same
// lines in the same run:
//   1. in process: the server's DatasetDocument (sliced full pass, then a one-line edit through the incremental validator);
//   2. over LSP: the real server (`node dist/server.js --stdio`): didOpen → publishDiagnostics, and one-line didChange →
//      publishDiagnostics (minus the debounce, which is waiting by design, not work).
// Run: npm run build && node out/bench/languageServer.mjs [lines]
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { DidChangeTextDocumentNotification } from "vscode-languageserver-protocol/node";
import { IncrementalValidator, validateJsonl } from "../sidecar/src/datasets/index";
import { DatasetDocument } from "../extension/server/datasetDocument";
import { VALIDATE_DEBOUNCE_MS } from "../extension/server/datasetServer";
import { repoRoot, startServer } from "../test/integration/languageServerHarness";

const LINES = Number(process.argv[2] ?? 200_000);

function generate(count: number): string[] {
    const lines: string[] = [];
    const filler = "The quick brown fox jumps over the lazy dog while the model learns to answer. ";
    for (let i = 0; i < count; i++) {
        lines.push(JSON.stringify({
            messages: [
                { role: "user", content: `Question ${i}: ${filler.slice(0, 40 + (i % 40)).trim()}?` },
                { role: "assistant", content: `Answer ${i}: ${filler.repeat(1 + (i % 2)).trim()}` }
            ]
        }));
    }
    return lines;
}

const now = () => performance.now();
const ms = (t: number) => `${t.toFixed(1)} ms`;

const lines = generate(LINES);
const text = `${lines.join("\n")}\n`;
console.log(`lines: ${LINES}, size: ${(Buffer.byteLength(text) / 1e6).toFixed(1)} MB`);

// Reference: bare JSON.parse of every line (best of 3).
let parseMs = Infinity;
for (let round = 0; round < 3; round++) {
    const t0 = now();
    for (const line of lines) JSON.parse(line);
    parseMs = Math.min(parseMs, now() - t0);
}
console.log(`JSON.parse per line (reference): ${ms(parseMs)}`);

// The pure core alone, for comparison with the server's sliced pass.
let t0 = now();
const core = validateJsonl(text, { format: "auto" });
const coreMs = now() - t0;
console.log(`core validateJsonl (one synchronous pass): ${ms(coreMs)}  → ${(parseMs / coreMs).toFixed(2)}× JSON.parse throughput; ${core.diagnostics.length} diagnostics`);

// The core's incremental path alone (what a one-line edit costs before any server work).
const incremental = new IncrementalValidator({ format: "auto" });
incremental.setText(text);
const coreEdits: number[] = [];
for (let k = 0; k < 5; k++) {
    t0 = now();
    incremental.applyEdit({ startLine: Math.floor(LINES / 2), endLine: Math.floor(LINES / 2) + 1, newLines: [JSON.stringify({ messages: [{ role: "user", content: `core ${k}` }, { role: "assistant", content: "ok" }] })] });
    coreEdits.push(now() - t0);
}
coreEdits.sort((a, b) => a - b);
console.log(`core IncrementalValidator.applyEdit, one line: median ${ms(coreEdits[2]!)} (min ${ms(coreEdits[0]!)}, max ${ms(coreEdits[4]!)})`);

// 1. In process.
const doc = new DatasetDocument("file:///bench.jsonl", text, 1, { format: "auto" });
t0 = now();
const full = await doc.validate();
const fullMs = now() - t0;
console.log(`in-process full pass (sliced, yields): ${ms(fullMs)}  → ${(parseMs / fullMs).toFixed(2)}× JSON.parse throughput; ${full.diagnostics.length} diagnostics`);
const editLine = Math.floor(LINES / 2);
const editTimes: number[] = [];
for (let k = 0; k < 5; k++) {
    const old = doc.buffer.line(editLine);
    t0 = now();
    doc.applyChanges([{ range: { start: { line: editLine, character: 0 }, end: { line: editLine, character: old.length } }, text: JSON.stringify({ messages: [{ role: "user", content: `edited ${k}` }, { role: "assistant", content: "ok" }] }) }], 2 + k);
    await doc.validate();
    editTimes.push(now() - t0);
}
editTimes.sort((a, b) => a - b);
console.log(`in-process one-line edit: median ${ms(editTimes[2]!)} (min ${ms(editTimes[0]!)}, max ${ms(editTimes[4]!)})  → ${(editTimes[2]! / parseMs * 100).toFixed(2)}% of one JSON.parse pass`);

// 2. Over LSP with the real server process.
const server = await startServer({});
const uri = pathToFileURL(join(repoRoot(), ".cache", "bench", "bench.jsonl")).href;
t0 = now();
server.open(uri, text);
await server.diagnostics(uri, (p) => p.version === 1);
const lspFullMs = now() - t0;
console.log(`LSP didOpen → publishDiagnostics: ${ms(lspFullMs)}  → ${(parseMs / lspFullMs).toFixed(2)}× JSON.parse throughput (includes sending 50 MB over stdio)`);
const lspEdits: number[] = [];
for (let k = 0; k < 5; k++) {
    const version = 2 + k;
    const old = k === 0 ? lines[editLine]! : JSON.stringify({ messages: [{ role: "user", content: `edited ${k - 1}` }, { role: "assistant", content: "ok" }] });
    t0 = now();
    await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version },
        contentChanges: [{ range: { start: { line: editLine, character: 0 }, end: { line: editLine, character: old.length } }, text: JSON.stringify({ messages: [{ role: "user", content: `edited ${k}` }, { role: "assistant", content: "ok" }] }) }]
    });
    await server.diagnostics(uri, (p) => p.version === version);
    lspEdits.push(now() - t0 - VALIDATE_DEBOUNCE_MS);
}
lspEdits.sort((a, b) => a - b);
console.log(`LSP one-line didChange → publishDiagnostics, minus ${VALIDATE_DEBOUNCE_MS} ms debounce: median ${ms(lspEdits[2]!)} (min ${ms(lspEdits[0]!)}, max ${ms(lspEdits[4]!)})`);
await server.stop();
