// `lora-studio validate` as a real child process (bin/lora-studio.mjs → dist/cli.mjs, built by `npm run build`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./helpers";

const root = repoRoot();

function cli(...args: string[]) {
    const p = spawnSync(process.execPath, [join(root, "bin", "lora-studio.mjs"), "validate", ...args], { cwd: root, encoding: "utf8", maxBuffer: 1 << 26 });
    if (p.error) throw p.error;
    return { code: p.status, stdout: p.stdout, stderr: p.stderr };
}

interface JsonReport {
    files: { path: string; diagnostics: { line: number; column: number; endLine: number; endColumn: number; severity: string; code: string; message: string }[] }[];
}

test("a clean dataset exits 0 with no diagnostics", () => {
    const r = cli("samples/facts.jsonl");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /1 file\(s\) checked: 0 error\(s\), 0 warning\(s\)/);
});

test("a broken dataset exits 1 and prints file:line:col: severity: message [code]", () => {
    const r = cli("samples/broken.jsonl");
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split("\n");
    for (const l of lines) assert.match(l, /^samples\/broken\.jsonl:\d+:\d+: (error|warning|info): .+ \[LS\d{3}\]$/);
    assert.ok(lines.includes("samples/broken.jsonl:3:112: error: Invalid JSON: Trailing comma is not allowed in JSON [LS001]"), r.stdout);
    assert.ok(lines.some((l) => l.startsWith("samples/broken.jsonl:12:1: warning: Duplicate example: same as line 2")), r.stdout);
});

test("--json prints 1-based ranges for every file", () => {
    const r = cli("--json", "samples/broken.jsonl", "samples/facts.jsonl");
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as JsonReport;
    assert.deepEqual(report.files.map((f) => f.path), ["samples/broken.jsonl", "samples/facts.jsonl"]);
    assert.deepEqual(report.files[1]!.diagnostics, []);
    const syntax = report.files[0]!.diagnostics.find((d) => d.code === "LS001");
    assert.deepEqual(syntax && { ...syntax, message: undefined }, { line: 3, column: 112, endLine: 3, endColumn: 113, severity: "error", code: "LS001", message: undefined });
    for (const d of report.files[0]!.diagnostics) {
        assert.ok(d.line >= 1 && d.column >= 1 && d.endLine === d.line && d.endColumn >= d.column, JSON.stringify(d));
        assert.ok(["error", "warning", "info"].includes(d.severity));
    }
});

test("warnings alone exit 0; --format forces a format; bad bytes, empty and missing files are reported", () => {
    const dir = mkdtempSync(join(tmpdir(), "lora-studio-cli-"));
    try {
        const warn = join(dir, "warn.jsonl");
        writeFileSync(warn, '{"prompt":"a","completion":"b"}\n\n{"prompt":"c","completion":"d"}\n');
        const w = cli("--json", warn);
        assert.equal(w.code, 0, w.stdout);
        assert.deepEqual((JSON.parse(w.stdout) as JsonReport).files[0]!.diagnostics.map((d) => d.code), ["LS008"]);

        const forced = cli("--json", "--format", "qa", warn);
        assert.equal(forced.code, 1);
        assert.ok((JSON.parse(forced.stdout) as JsonReport).files[0]!.diagnostics.every((d) => d.code === "LS101" || d.code === "LS008"));

        const bad = join(dir, "latin1.jsonl");
        writeFileSync(bad, Buffer.concat([Buffer.from('{"text":"ok"}\n{"text":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
        const b = cli("--json", bad);
        assert.equal(b.code, 1);
        assert.deepEqual((JSON.parse(b.stdout) as JsonReport).files[0]!.diagnostics.map((d) => [d.line, d.column, d.code]), [[2, 13, "LS004"]]);

        const empty = join(dir, "empty.jsonl");
        writeFileSync(empty, "");
        assert.equal(cli(empty).code, 0);

        const missing = cli(join(dir, "nope.jsonl"));
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /cannot read .*nope\.jsonl: ENOENT/);

        const binary = join(dir, "model.gguf");
        writeFileSync(binary, Buffer.from([0x47, 0x47, 0x55, 0x46, 0x03, 0x00, 0x00, 0x00, 0xff, 0xfe]));
        const bin = cli(binary);
        assert.equal(bin.code, 1);
        assert.match(bin.stdout, /model\.gguf:1:1: error: .*binary.* \[LS006\]/);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});

test("usage errors exit 2", () => {
    assert.equal(cli().code, 2);
    const r = cli("--format", "csv", "x.jsonl");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--format must be one of auto, chat, instruction, prompt-completion, text, qa/);
});
