// Dataset reading is bounded and messages never echo a file that is not a dataset (issue 12.9): `validate /dev/zero`
// stops after one over-long line instead of growing without bound; a file given as data by mistake (/etc/passwd style)
// gets its problems located by line and column, never quoted; quoted user values are short and escaped.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatasetReadError, readDatasetFile } from "../../../sidecar/src/datasets/readDatasetFile";
import { excerpt } from "../../../sidecar/src/datasets/excerpt";
import { parseDatasetText } from "../../../sidecar/src/pipeline/examples";
import { heldOutFromFile } from "../../../sidecar/src/eval/heldOut";
import { validateJsonl } from "../../../sidecar/src/datasets";
import { repoRoot } from "../support/repoRoot";

const dir = mkdtempSync(join(tmpdir(), "dataset-bounds-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = "root:$y$j9T$secretHASHvalue:19000:0:99999:7:::";
const notADataset = join(dir, "shadow");
writeFileSync(notADataset, `${SECRET}\ndaemon:*:19000:0:99999:7:::\n`);

test("/dev/zero is read to one line's bound and reported, not read until memory runs out", () => {
    assert.throws(() => readDatasetFile("/dev/zero", { maxLineBytes: 1 << 20 }), (e: unknown) => e instanceof DatasetReadError && e.reason === "line-too-long" && /\/dev\/zero: line 1 is longer than 1048576 bytes; stopped reading/.test(e.message));
    const r = spawnSync(process.execPath, [join(repoRoot, "bin", "lora-studio.mjs"), "validate", "/dev/zero"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /lora-studio validate: \/dev\/zero: line 1 is longer than \d+ bytes; stopped reading/);
});

test("a file over the size bound is refused with its name and the bound", () => {
    const big = join(dir, "big.jsonl");
    writeFileSync(big, `${'{"text":"x"}\n'.repeat(1000)}`);
    assert.throws(() => readDatasetFile(big, { maxBytes: 4096 }), (e: unknown) => e instanceof DatasetReadError && e.reason === "too-large" && e.message.includes(big));
    assert.equal(readDatasetFile(big).length, 13 * 1000);
});

test("a file that is not a dataset is never quoted: not by the pipeline, evaluation or the validator", async () => {
    const parsed = parseDatasetText(`${SECRET}\n`, notADataset);
    assert.equal(parsed.issues.length, 1);
    assert.match(parsed.issues[0]!.message, /^not valid JSON at column 1 \(/);
    const heldOut = await heldOutFromFile(notADataset);
    const validated = validateJsonl(`${SECRET}\n`, { format: "auto" });
    for (const text of [...parsed.issues.map((i) => i.message), ...heldOut.skipped.map((s) => s.reason), ...validated.diagnostics.map((d) => d.message)]) {
        assert.ok(!text.includes("root") && !text.includes("secret") && !text.includes("19000"), `echoes the file: ${text}`);
    }
});

test("quoted user values are short and escaped: control characters and NUL never reach a terminal", () => {
    assert.equal(excerpt("a\u0000b\u001b[31m"), '"a\\u0000b\\u001b[31m"');
    assert.equal(excerpt("x".repeat(100)), `"${"x".repeat(40)}"…`);
    const line = JSON.stringify({ [`${"k".repeat(200)}\u0007`]: 1 });
    const d = validateJsonl(line, { format: "auto" }).diagnostics.find((x) => x.code === "LS105");
    assert.ok(d, "unknown format reported");
    assert.ok(d.message.length < 400 && !d.message.includes("\u0007"), d.message);
});
