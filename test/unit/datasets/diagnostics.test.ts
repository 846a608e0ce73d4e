// One fixture per diagnostic code (test/fixtures/datasets/<code>-<title>.jsonl): each must produce its code at the
// expected place, and nothing else may go wrong on the fixture's good lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DIAGNOSTIC_CODES, validateJsonl, type ValidateOptions } from "../../../sidecar/src/datasets/index";
import { fixturesDir, rangeProblem, readFixture, repoRoot, describe } from "./helpers";

interface Expectation {
    /** 1-based line of the diagnostic. */
    line: number;
    /** Where the range starts: a substring of that line (first occurrence), or a 0-based character. */
    at: string | number;
    options?: ValidateOptions;
    /** Text the message must contain. */
    says?: string;
}

const EXPECTED: Record<string, Expectation> = {
    LS001: { line: 2, at: "]}", says: "Trailing comma" },
    LS002: { line: 2, at: 0, says: "array" },
    LS003: { line: 2, at: '{"messages":'.length + 63 },
    LS004: { line: 2, at: "\uFFFD", says: "UTF-8" },
    LS005: { line: 2, at: "\uFFFD" },
    LS006: { line: 1, at: 0 },
    LS007: { line: 1, at: 0 },
    LS008: { line: 2, at: 0 },
    LS009: { line: 2, at: 32_768 },
    LS010: { line: 2, at: 0 },
    LS011: { line: 1, at: 0 },
    LS101: { line: 2, at: '{"role":"assistant"}', says: '"content"' },
    LS102: { line: 2, at: "3}", says: "string" },
    LS103: { line: 2, at: '"human"', says: '"assistant"' },
    LS104: { line: 2, at: "[]" },
    LS105: { line: 2, at: 0, says: '"query"' },
    LS201: { line: 2, at: '"messages"' },
    LS202: { line: 2, at: '"system"' },
    LS203: { line: 2, at: '"   "' },
    LS204: { line: 2, at: '"Hi "' },
    LS205: { line: 3, at: 0, says: "line 1" },
    LS206: { line: 3, at: 0, says: "instruction" },
    LS900: { line: 1, at: 0, options: { maxDiagnostics: 5 }, says: "more diagnostics" }
};

/** Codes the pure validator never emits itself (the language server does, with a tokenizer). */
const SERVER_ONLY = new Set(["LS301", "LS302"]);

const fixtures = readdirSync(fixturesDir()).filter((f) => /^LS\d{3}-.*\.jsonl$/.test(f));

test("every diagnostic code has a fixture and an expectation, and every fixture a known code", () => {
    for (const code of Object.keys(DIAGNOSTIC_CODES)) {
        if (SERVER_ONLY.has(code)) continue;
        assert.ok(fixtures.some((f) => f.startsWith(`${code}-`)), `no fixture for ${code}`);
        assert.ok(EXPECTED[code], `no expectation for ${code}`);
    }
    for (const f of fixtures) assert.ok(f.slice(0, 5) in DIAGNOSTIC_CODES, `fixture ${f} names an unknown code`);
});

test("docs/diagnostics.md documents every code", () => {
    const doc = readFileSync(join(repoRoot(), "docs", "diagnostics.md"), "utf8");
    for (const [code, info] of Object.entries(DIAGNOSTIC_CODES)) {
        assert.match(doc, new RegExp(`^## ${code} ${info.title}$`, "m"), `docs/diagnostics.md lacks a "## ${code} ${info.title}" heading`);
    }
});

for (const file of fixtures) {
    const code = file.slice(0, 5);
    test(`fixture ${file} produces ${code} at the expected place`, () => {
        const want = EXPECTED[code]!;
        const { text, invalidUtf8 } = readFixture(file);
        const result = validateJsonl(text, { decodedFromInvalidUtf8: invalidUtf8, ...want.options });
        assert.equal(rangeProblem(text, result), undefined);
        const hits = result.diagnostics.filter((d) => d.code === code);
        assert.ok(hits.length > 0, `${code} missing; got:\n${result.diagnostics.map(describe).join("\n")}`);
        const d = hits[0]!;
        assert.equal(d.severity, DIAGNOSTIC_CODES[code as keyof typeof DIAGNOSTIC_CODES].severity);
        assert.equal(d.range.start.line, want.line - 1, describe(d));
        const lineText = text.split("\n")[want.line - 1] ?? "";
        const at = typeof want.at === "number" ? want.at : lineText.indexOf(want.at);
        assert.ok(at >= 0, `fixture line ${want.line} lacks ${JSON.stringify(want.at)}`);
        assert.equal(d.range.start.character, at, describe(d));
        if (want.says) assert.ok(d.message.includes(want.says), `message "${d.message}" should mention ${want.says}`);
        // The fixture's first line is a good example (except where the whole file is the point).
        if (!["LS006", "LS007", "LS011", "LS900"].includes(code)) {
            const onFirst = result.diagnostics.filter((x) => x.range.start.line === 0);
            assert.deepEqual(onFirst.map(describe), [], "the fixture's good first line should be clean");
        }
    });
}

test("the cap keeps errors first and counts the rest in one summary", () => {
    const { text } = readFixture("LS900-too-many-diagnostics.jsonl");
    const result = validateJsonl(text, { maxDiagnostics: 5 });
    assert.equal(result.diagnostics.length, 5);
    const summaries = result.diagnostics.filter((d) => d.code === "LS900");
    assert.equal(summaries.length, 1);
    const full = validateJsonl(text, { maxDiagnostics: 10_000 });
    assert.ok(summaries[0]!.message.startsWith(`${full.diagnostics.length - 4} more`), summaries[0]!.message);
    assert.ok(result.diagnostics.filter((d) => d.code !== "LS900").every((d) => d.severity === "error"));
});
