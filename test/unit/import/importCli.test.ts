// `lora-studio import` end to end through the built CLI (bin/lora-studio.mjs): CSV, TSV, JSON array, JSON Lines
// and Parquet (uncompressed, Snappy, Zstd) become chat JSONL that `lora-studio validate` accepts; a bad row is named
// by file, row and column; nothing partial is left behind; the input is never overwritten; the split is seeded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetMetadata } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import { repoRoot } from "../support/repoRoot";

const CLI = join(repoRoot, "bin", "lora-studio.mjs");

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SCIQ = [
    { question: "What is H2O?", correct_answer: "water", support: "H2O is water, a molecule.", distractor1: "salt" },
    { question: "Why is the sky blue?", correct_answer: "scattering", support: "", distractor1: "paint" },
    { question: "What do plants make?", correct_answer: "oxygen", support: "Photosynthesis, \"quoted\".", distractor1: "gold" },
    { question: "Largest planet?", correct_answer: "Jupiter", support: "Gas giant", distractor1: "Mars" },
    { question: "Boiling point of water?", correct_answer: "100 C", support: "At sea level", distractor1: "0 C" }
];
const COLUMNS = ["question", "correct_answer", "support", "distractor1"] as const;

function delimited(sep: string): string {
    const quote = (v: string): string => (sep === "," && /[",\n]/.test(v) ? `"${v.replace(/"/g, "\"\"")}"` : v);
    return [COLUMNS.join(sep), ...SCIQ.map((r) => COLUMNS.map((c) => quote(r[c])).join(sep))].join("\n") + "\n";
}

/** A valid Zstd frame of raw (stored) blocks: Node 20 has no Zstd compressor, and the reader's path is the same. */
function zstdStored(input: Uint8Array): Uint8Array {
    const BLOCK = 1 << 17;
    const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0xa0, ...[0, 8, 16, 24].map((s) => (input.length >>> s) & 0xff)];
    let at = 0;
    do {
        const size = Math.min(BLOCK, input.length - at);
        const header = ((at + size >= input.length ? 1 : 0) | (size << 3)) >>> 0;
        parts.push(header & 0xff, (header >>> 8) & 0xff, (header >>> 16) & 0xff, ...input.subarray(at, at + size));
        at += size;
    } while (at < input.length);
    return Uint8Array.from(parts);
}

function writeParquet(path: string, codec: "UNCOMPRESSED" | "SNAPPY" | "ZSTD"): void {
    const buffer = parquetWriteBuffer({
        columnData: COLUMNS.map((name) => ({ name, data: SCIQ.map((r) => r[name]), type: "STRING" as const })),
        codec, compressors: { ZSTD: zstdStored }, rowGroupSize: 2
    });
    const codecs = new Set(parquetMetadata(buffer).row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec)));
    assert.deepEqual([...codecs], [codec], `${path} is written with ${codec}`);
    writeFileSync(path, new Uint8Array(buffer));
}

const EXPECTED_FIRST = [{ role: "user", content: "Question: What is H2O?\nContext: H2O is water, a molecule." }, { role: "assistant", content: "water" }];

function examples(path: string): Array<{ messages: Array<{ role: string; content: string }> }> {
    return readFileSync(path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
}

test("CSV, TSV, JSON, JSONL and Parquet (uncompressed, Snappy, Zstd) import to chat JSONL that validate accepts", () => {
    const dir = mkdtempSync(join(tmpdir(), "ls-import-"));
    const inputs: string[] = [];
    const add = (name: string, text: string): void => {
        writeFileSync(join(dir, name), text);
        inputs.push(name);
    };
    add("sciq.csv", delimited(","));
    add("sciq.tsv", delimited("\t"));
    add("sciq.json", JSON.stringify(SCIQ, null, 2));
    add("sciq.jsonl", SCIQ.map((r, i) => JSON.stringify({ id: i, ...r, extra: { nested: true } })).join("\n") + "\n");
    for (const codec of ["UNCOMPRESSED", "SNAPPY", "ZSTD"] as const) {
        writeParquet(join(dir, `sciq-${codec}.parquet`), codec);
        inputs.push(`sciq-${codec}.parquet`);
    }
    for (const name of inputs) {
        const out = join(dir, `${name}.out.jsonl`);
        const r = cli("import", join(dir, name), "--out", out);
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        assert.match(r.stderr, /mapping: SciQ/);
        const got = examples(out);
        assert.equal(got.length, SCIQ.length, name);
        assert.deepEqual(got[0]!.messages, EXPECTED_FIRST, name);
        assert.deepEqual(got[1]!.messages[0], { role: "user", content: "Question: Why is the sky blue?" }, `${name}: an empty support leaves out its line`);
        const v = cli("validate", out);
        assert.equal(v.code, 0, `${name}: validate: ${v.stdout}${v.stderr}`);
        assert.match(v.stderr, /0 error\(s\), 0 warning\(s\)/);
    }
});

test("templates, a system prompt and --preview (which writes nothing)", () => {
    const dir = mkdtempSync(join(tmpdir(), "ls-import-"));
    const input = join(dir, "qa.csv");
    writeFileSync(input, "q,a,note\nWhat?,That.,n1\nWho?,Them.,n2\n");
    const r = cli("import", input, "--preview", "1", "--system", "Answer briefly.", "--user", "Q: {q}\\n({note})", "--assistant", "{a}", "--out", join(dir, "never.jsonl"));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l)), [{ messages: [{ role: "system", content: "Answer briefly." }, { role: "user", content: "Q: What?\n(n1)" }, { role: "assistant", content: "That." }] }]);
    assert.deepEqual(readdirSync(dir), ["qa.csv"]);
    const unknown = cli("import", input, "--out", join(dir, "o.jsonl"));
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no mapping fits the columns "q", "a", "note"/);
});

test("a malformed CSV row is named by file, row and column, and leaves no output or temporary file", () => {
    const dir = mkdtempSync(join(tmpdir(), "ls-import-"));
    const rows = Array.from({ length: 50 }, (_, i) => `Q${i},A${i},S${i}`);
    rows.splice(40, 0, "Q-bad,A-bad");
    writeFileSync(join(dir, "bad.csv"), `question,correct_answer,support\n${rows.join("\n")}\n`);
    const r = cli("import", join(dir, "bad.csv"), "--out", join(dir, "out.jsonl"), "--split", "0.2", "--held-out", join(dir, "held.jsonl"));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.csv: row 41 \(line 42\), column "support": expected 3 field\(s\) as in the header, found 2/);
    assert.deepEqual(readdirSync(dir), ["bad.csv"]);
    // A row that converts to nothing to train on fails the same way, after earlier rows were written.
    writeFileSync(join(dir, "empty.csv"), `question,correct_answer,support\n${rows.filter((l) => l !== "Q-bad,A-bad").join("\n")}\nQ-last,,S\n`);
    const e = cli("import", join(dir, "empty.csv"), "--out", join(dir, "out.jsonl"));
    assert.equal(e.code, 1);
    assert.match(e.stderr, /empty\.csv: row 51 \(line 52\), column "correct_answer": the assistant message is empty/);
    assert.deepEqual(readdirSync(dir).sort(), ["bad.csv", "empty.csv"]);
    // A stray quote is a syntax error, named the same way.
    writeFileSync(join(dir, "quote.csv"), "question,correct_answer,support\nQ1,A1,S1\nQ2,A\"2,S2\n");
    const q = cli("import", join(dir, "quote.csv"), "--out", join(dir, "out.jsonl"));
    assert.equal(q.code, 1);
    assert.match(q.stderr, /quote\.csv: row 2 \(line 3\), column "correct_answer": /);
    assert.deepEqual(readdirSync(dir).sort(), ["bad.csv", "empty.csv", "quote.csv"]);
});

test("--out equal to the input is refused and the input is unchanged", () => {
    const dir = mkdtempSync(join(tmpdir(), "ls-import-"));
    const input = join(dir, "data.jsonl");
    const text = `${JSON.stringify({ instruction: "Say hi", input: "", output: "hi" })}\n`;
    writeFileSync(input, text);
    const r = cli("import", input, "--out", join(dir, ".", "data.jsonl"));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is the input file/);
    assert.equal(readFileSync(input, "utf8"), text);
    assert.deepEqual(readdirSync(dir), ["data.jsonl"]);
});

test("--split with --seed is deterministic: same seed same files, another seed another split", () => {
    const dir = mkdtempSync(join(tmpdir(), "ls-import-"));
    const input = join(dir, "alpaca.json");
    writeFileSync(input, JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ instruction: `Task ${i}`, input: "", output: `Done ${i}` }))));
    const run = (seed: string, tag: string): [string, string] => {
        const out = join(dir, `train-${tag}.jsonl`);
        const held = join(dir, `held-${tag}.jsonl`);
        const r = cli("import", input, "--out", out, "--split", "0.25", "--held-out", held, "--seed", seed);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(cli("validate", out, held).code, 0);
        return [readFileSync(out, "utf8"), readFileSync(held, "utf8")];
    };
    const a = run("5", "a");
    const b = run("5", "b");
    const c = run("6", "c");
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const [train, held] = a.map((t) => t.trimEnd().split("\n").length) as [number, number];
    assert.equal(train + held, 200);
    assert.ok(held > 25 && held < 75, `${held} of 200 held out at 0.25`);
    assert.equal(cli("import", input, "--out", join(dir, "x.jsonl"), "--split", "1", "--held-out", join(dir, "y.jsonl")).code, 2, "--split is checked against its range");
});
