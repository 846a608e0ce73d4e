// import/preview, import/run and import/cancel through the real sidecar process (out/test/integration/hookedSidecar.mjs
// is dist/sidecar.mjs plus test-only requests), as "LoRA Studio: Import Dataset" drives them: the preview shows the
// detected preset and the very lines the run writes; a run streams import/progress; a cancel leaves no output and no
// temporary file; a malformed row is named by file, row and column; existing outputs are replaced only when asked.
import assert from "node:assert/strict";
import { test } from "node:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ResponseError } from "vscode-jsonrpc";
import {
    ImportCancelRequest, ImportPreviewRequest, ImportProgressNotification, ImportRunRequest, SidecarErrorCode,
    type ImportProgressParams, type ImportRunParams, type SidecarErrorData
} from "../../sidecar/src/protocol/sidecar";
import type { SidecarSupervisor } from "../../extension/src/sidecar/supervisor";
import { tempWorkspace, testSupervisor } from "./sidecarHarness";

const HEADER = "question,correct_answer,support,distractor1";
const sciqRow = (i: number): string => `"What is ${i} + 1?",${i + 1},"Counting: ${i}, then ${i + 1}.",${i + 2}`;
function sciqCsv(path: string, rows: number): void {
    const lines = [HEADER];
    for (let i = 0; i < rows; i++) lines.push(sciqRow(i));
    writeFileSync(path, `${lines.join("\n")}\n`);
}

async function responseError(request: Promise<unknown>): Promise<ResponseError<SidecarErrorData>> {
    try {
        await request;
    } catch (error) {
        assert.ok(error instanceof ResponseError, `a typed JSON-RPC error, got ${String(error)}`);
        return error as ResponseError<SidecarErrorData>;
    }
    assert.fail("the request succeeded");
}

async function run(supervisor: SidecarSupervisor, params: ImportRunParams, onProgress?: (p: ImportProgressParams) => void) {
    const progress: ImportProgressParams[] = [];
    const subscription = supervisor.onNotification(ImportProgressNotification.type, (p) => {
        if (p.importId !== params.importId) return;
        progress.push(p);
        onProgress?.(p);
    });
    try {
        return { result: await supervisor.sendRequest(ImportRunRequest.type, params), progress };
    } finally {
        subscription.dispose();
    }
}

test("import over the sidecar: preview, run, cancel, a malformed row, and existing outputs", { timeout: 5 * 60_000 }, async (t) => {
    const dir = tempWorkspace("lora-studio-import-ws-");
    const { supervisor } = testSupervisor({ initializeParams: () => ({ workspaceRoot: dir, workspaceTrusted: true }) });
    t.after(() => supervisor.stop());
    await supervisor.start();
    const input = join(dir, "sciq.csv");
    sciqCsv(input, 50);
    const out = join(dir, "sciq.jsonl");

    await t.test("import/preview detects SciQ and converts the first rows without writing anything", async () => {
        const preview = await supervisor.sendRequest(ImportPreviewRequest.type, { file: input, rows: 3 });
        assert.equal(preview.format, "csv");
        assert.equal(preview.detected, "sciq");
        assert.deepEqual(preview.columns, ["question", "correct_answer", "support", "distractor1"]);
        assert.deepEqual(preview.mapping, { preset: "sciq", user: "Question: {question}\\nContext: {support}", assistant: "{correct_answer}" });
        assert.equal(preview.lines.length, 3);
        assert.deepEqual(JSON.parse(preview.lines[0]!), { messages: [{ role: "user", content: "Question: What is 0 + 1?\nContext: Counting: 0, then 1." }, { role: "assistant", content: "1" }] });
        assert.deepEqual(readdirSync(dir).sort(), ["sciq.csv"]);
        const custom = await supervisor.sendRequest(ImportPreviewRequest.type, { file: input, rows: 1, system: "Answer with a number.", user: "{question}" });
        assert.deepEqual(JSON.parse(custom.lines[0]!).messages, [{ role: "system", content: "Answer with a number." }, { role: "user", content: "What is 0 + 1?" }, { role: "assistant", content: "1" }]);
    });

    await t.test("import/run writes the lines the preview showed, with progress and a seeded held-out split", async () => {
        const preview = await supervisor.sendRequest(ImportPreviewRequest.type, { file: input, rows: 50 });
        const heldOut = join(dir, "sciq.heldout.jsonl");
        const { result, progress } = await run(supervisor, { importId: "i1", file: input, out, split: 0.2, heldOut, seed: 7 });
        assert.equal(result.cancelled, false);
        assert.equal(result.rows, 50);
        assert.equal(result.written + result.heldOut, 50);
        assert.ok(result.heldOut > 0 && result.written > 0, `both files get rows (${result.written}, ${result.heldOut})`);
        const written = [...readFileSync(out, "utf8").trimEnd().split("\n"), ...readFileSync(heldOut, "utf8").trimEnd().split("\n")];
        assert.deepEqual(written.sort(), [...preview.lines].sort(), "every written line is one the preview showed");
        assert.equal(progress.at(-1)?.rows, 50);
        assert.equal(progress.at(-1)?.bytes, progress.at(-1)?.totalBytes);
    });

    await t.test("an existing output is replaced only with overwrite; the input never", async () => {
        const before = readFileSync(out, "utf8");
        const exists = await responseError(run(supervisor, { importId: "i2", file: input, out }));
        assert.equal(exists.code, SidecarErrorCode.ImportTargetExists);
        assert.deepEqual(exists.data?.paths, [out]);
        assert.equal(readFileSync(out, "utf8"), before);
        const self = await responseError(run(supervisor, { importId: "i3", file: input, out: input, overwrite: true }));
        assert.equal(self.code, SidecarErrorCode.InvalidParams);
        assert.match(self.message, /is the input file/);
        const { result } = await run(supervisor, { importId: "i4", file: input, out, overwrite: true });
        assert.equal(result.written, 50);
    });

    await t.test("a malformed row is named by file, row and column, and nothing is written", async () => {
        const bad = join(dir, "bad.csv");
        writeFileSync(bad, `${HEADER}\n${sciqRow(0)}\n${sciqRow(1)},extra\n${sciqRow(2)}\n`);
        for (const request of [supervisor.sendRequest(ImportPreviewRequest.type, { file: bad }), run(supervisor, { importId: "i5", file: bad, out: join(dir, "bad.jsonl") })]) {
            const error = await responseError(request);
            assert.equal(error.code, SidecarErrorCode.ImportRowInvalid);
            assert.match(error.message, /^bad\.csv: row 2 \(line 3\), column "field 5 \(beyond the header\)": expected 4 field/);
            assert.deepEqual(error.data?.importPlace, { file: bad, row: 2, line: 3, column: "field 5 (beyond the header)" });
        }
        assert.ok(!readdirSync(dir).some((name) => name.startsWith("bad.jsonl") || name.includes(".importing")), `nothing left: ${readdirSync(dir).join(", ")}`);
    });

    await t.test("import/cancel stops a run mid-file: no output, no temporary file", async () => {
        const big = join(dir, "big.csv");
        sciqCsv(big, 400_000);
        const bigOut = join(dir, "big.jsonl");
        let cancelled: Promise<boolean> | undefined;
        // Cancel on the first progress report (after 10,000 rows): the run is then certainly mid-file.
        const { result, progress } = await run(supervisor, { importId: "big", file: big, out: bigOut }, () => {
            cancelled ??= supervisor.sendRequest(ImportCancelRequest.type, { importId: "big" });
        });
        assert.equal(await cancelled, true);
        assert.equal(result.cancelled, true);
        assert.ok(progress.every((p) => p.rows < 400_000), `stopped mid-file: ${progress.map((p) => p.rows).join(", ")}`);
        assert.equal(existsSync(bigOut), false);
        assert.deepEqual(readdirSync(dir).filter((name) => name.includes(".importing")), []);
        assert.equal(await supervisor.sendRequest(ImportCancelRequest.type, { importId: "big" }), false, "nothing to cancel once it has answered");
    });
});
