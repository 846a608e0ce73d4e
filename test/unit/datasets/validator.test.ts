// Behaviour of the pure validator beyond one-code fixtures: formats and detection, column mappings, quick-fix
// hints, the incremental validator against full validation, and bad input that must not crash or hang.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
    IncrementalValidator,
    convertLineToChat,
    decodeDatasetBytes,
    detectFormat,
    matchGlob,
    normalizeExample,
    optionsForPath,
    validateJsonl,
    type ColumnMapping
} from "../../../sidecar/src/datasets/index";
import { describe as show, rangeProblem, summary } from "./helpers";

const chat = (u: string, a: string) => JSON.stringify({ messages: [{ role: "user", content: u }, { role: "assistant", content: a }] });
const codes = (text: string, options = {}) => validateJsonl(text, options).diagnostics.map((d) => `${d.range.start.line + 1}:${d.code}`);

test("every format validates clean when well-formed, and is detected", () => {
    const samples: Record<string, string> = {
        chat: chat("Capital of Zorbia?", "Quillport."),
        instruction: JSON.stringify({ instruction: "Name the capital of Zorbia.", input: "", output: "Quillport." }),
        "prompt-completion": JSON.stringify({ prompt: "Capital of Zorbia:", completion: "Quillport." }),
        text: JSON.stringify({ text: "Quillport is the capital of Zorbia." }),
        qa: JSON.stringify({ question: "Capital of Zorbia?", answer: "Quillport.", context: "Zorbia is an island." })
    };
    for (const [format, line] of Object.entries(samples)) {
        const result = validateJsonl(`${line}\n`);
        assert.deepEqual(summary(result), [], format);
        assert.equal(result.format, format);
        assert.equal(detectFormat(`${line}\n${line}\n`), format);
        assert.deepEqual(result.counts, { valid: 1, warning: 0, error: 0, blank: 0 });
    }
});

test("a forced format reports schema errors and offers the conversion to chat", () => {
    const line = JSON.stringify({ instruction: "Name the capital.", output: "Quillport." });
    const result = validateJsonl(line, { format: "chat" });
    const d = result.diagnostics.find((x) => x.code === "LS101");
    assert.ok(d, summary(result).join("\n"));
    assert.equal(d.fix?.kind, "convert-to-chat");
    const converted = JSON.parse(d.fix!.replacement!);
    assert.deepEqual(converted, { messages: [{ role: "user", content: "Name the capital." }, { role: "assistant", content: "Quillport." }] });
    assert.deepEqual(summary(validateJsonl(d.fix!.replacement!, { format: "chat" })), []);
});

test("convertLineToChat handles instruction (with input), prompt-completion and qa (with context), not text or chat", () => {
    assert.deepEqual(JSON.parse(convertLineToChat('{"instruction":"Translate.","input":"bonjour","output":"hello"}')!), {
        messages: [{ role: "user", content: "Translate.\n\nbonjour" }, { role: "assistant", content: "hello" }]
    });
    assert.deepEqual(JSON.parse(convertLineToChat('{"prompt":"2+2=","completion":"4"}')!).messages[1], { role: "assistant", content: "4" });
    assert.equal(JSON.parse(convertLineToChat('{"question":"Who?","answer":"Tarr.","context":"Tarr founded it."}')!).messages[0].content, "Tarr founded it.\n\nWho?");
    assert.equal(convertLineToChat('{"text":"just text"}'), undefined);
    assert.equal(convertLineToChat(chat("a", "b")), undefined);
    assert.equal(convertLineToChat("{not json"), undefined);
});

test("column mappings: SciQ and PubMedQA validate as qa, and ranges point at the user's columns", () => {
    const sciq: ColumnMapping = { format: "qa", fields: { question: "question", answer: "correct_answer", context: "support" } };
    const good = JSON.stringify({ question: "What gas do plants absorb?", distractor1: "oxygen", correct_answer: "carbon dioxide", support: "Plants take in CO2." });
    assert.deepEqual(summary(validateJsonl(good, { columnMapping: sciq })), []);
    assert.equal(normalizeExample(JSON.parse(good), undefined, sciq)?.messages[1]?.content, "carbon dioxide");

    const bad = '{"question":"What gas?","correct_answer":""}';
    const d = validateJsonl(bad, { columnMapping: sciq }).diagnostics.find((x) => x.code === "LS201");
    assert.ok(d);
    assert.equal(d.range.start.character, bad.indexOf('""'), show(d));
    assert.ok(d.message.includes("correct_answer"), d.message);

    const typed = '{"question":"What gas?","correct_answer":7}';
    const t = validateJsonl(typed, { columnMapping: sciq }).diagnostics.find((x) => x.code === "LS102");
    assert.ok(t);
    assert.equal(t.range.start.character, typed.indexOf("7"));

    const pubmed: ColumnMapping = { format: "qa", fields: { question: "question", answer: ["final_decision", "long_answer"] } };
    const line = JSON.stringify({ pubid: 1, question: "Does X help?", final_decision: "yes", long_answer: "Trials show it does." });
    assert.deepEqual(summary(validateJsonl(line, { columnMapping: pubmed })), []);
    assert.equal(normalizeExample(JSON.parse(line), "qa", pubmed)?.messages[1]?.content, "yes\n\nTrials show it does.");
    assert.equal(JSON.parse(convertLineToChat(line, "auto", pubmed)!).messages[1].content, "yes\n\nTrials show it does.");
});

test("per-glob overrides pick the format and mapping", () => {
    assert.ok(matchGlob("data/sciq/**", "data/sciq/train.jsonl"));
    assert.ok(matchGlob("data/sciq/**", "/home/u/proj/data/sciq/a/b.jsonl"));
    assert.ok(matchGlob("*.qa.jsonl", "x/y/z.qa.jsonl"));
    assert.ok(matchGlob("data/{a,b}.jsonl", "data/b.jsonl"));
    assert.ok(!matchGlob("data/*.jsonl", "data/sub/x.jsonl"));
    assert.ok(!matchGlob("*.qa.jsonl", "x/y/z.jsonl"));
    const overrides = [{ glob: "**/sciq/*.jsonl", format: "qa" as const, columnMapping: { format: "qa" as const, fields: { answer: "correct_answer" } } }];
    assert.equal(optionsForPath("data/sciq/test.jsonl", overrides).format, "qa");
    assert.equal(optionsForPath("data/other.jsonl", overrides, { maxDiagnostics: 7 }).maxDiagnostics, 7);
    assert.equal(optionsForPath("data/other.jsonl", overrides).format, undefined);
});

test("fix hints: trim whitespace, delete a duplicate, delete a blank line, remove the BOM, convert a mixed line", () => {
    const text = ["\uFEFF" + chat("Hi ", "Hello"), "", chat("Q", "A"), `  ${chat("Q", "A")}`, '{"prompt":"P","completion":"C"}', ""].join("\n");
    const byCode = new Map(validateJsonl(text).diagnostics.map((d) => [`${d.range.start.line}:${d.code}`, d]));
    assert.equal(byCode.get("0:LS007")?.fix?.kind, "remove-bom");
    assert.equal(byCode.get("0:LS007")?.fix?.replacement, chat("Hi ", "Hello"));
    assert.equal(JSON.parse(byCode.get("0:LS204")!.fix!.replacement!.replace(/^\uFEFF/, "")).messages[0].content, "Hi");
    assert.equal(byCode.get("1:LS008")?.fix?.kind, "delete-blank-line");
    assert.equal(byCode.get("3:LS205")?.fix?.kind, "delete-line");
    assert.ok(byCode.get("3:LS205")?.message.includes("line 3"));
    assert.equal(byCode.get("3:LS010")?.fix?.replacement, chat("Q", "A"));
    assert.equal(byCode.get("4:LS206")?.fix?.kind, "convert-to-chat");
    assert.equal(byCode.get("5:LS008"), undefined, "the end of the file is not a blank line");
});

test("duplicates are found across formats, key order and whitespace", () => {
    const text = [chat("What is 2+2?", "4"), '{"prompt":" What is 2+2?","completion":"4"}', JSON.stringify({ messages: [{ content: "What is 2+2?", role: "user" }, { role: "assistant", content: "4\n" }] })].join("\n");
    assert.deepEqual(codes(text).filter((c) => c.endsWith("LS205")), ["2:LS205", "3:LS205"]);
    const result = validateJsonl(text);
    assert.equal(result.lines[2]?.duplicateOf, 0);
    assert.deepEqual(codes([chat("What is 2+2?", "4"), chat("What is  2+2?", "4"), chat("What is 2+2?", "5")].join("\n")), []);
});

test("long examples that differ only where the hash does not look are not duplicates", () => {
    // The candidate hash samples long strings; the exact comparison must reject what the sample cannot tell apart.
    const base = "lorem ipsum ".repeat(200);
    const variants = Array.from({ length: 50 }, (_, i) => base.slice(0, 1000) + String.fromCharCode(65 + (i % 26)) + String(i).padStart(2, "0") + base.slice(1003) + "end");
    const text = variants.map((v) => chat(v, "same answer")).join("\n");
    assert.deepEqual(codes(text), []);
    assert.deepEqual(codes(`${text}\n${chat(variants[7]!, "same answer")}`), ["51:LS205"]);
    assert.ok(validateJsonl(`${text}\n${chat(variants[7]!, "same answer")}`).diagnostics[0]!.message.includes("line 8"));
});

test("chat content checks: no assistant text is an error, system only first, empty content warns", () => {
    const line = JSON.stringify({ messages: [{ role: "system", content: "S" }, { role: "user", content: "U" }, { role: "assistant", content: "  " }] });
    assert.deepEqual(codes(line).sort(), ["1:LS201", "1:LS203"]);
    const r = validateJsonl(line);
    assert.equal(r.counts.error, 1);
    assert.deepEqual(r.lines[0]?.roles, { system: 1, user: 1, assistant: 1 });
});

test("the incremental validator matches full validation after random edits", () => {
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const pool = [
        chat("A", "1"), chat("B", "2"), chat("A", "1"), "", "{broken", '{"instruction":"I","output":"O"}', "\uFEFF" + chat("C", "3"),
        '{"messages":[{"role":"user","content":"x"}]}', "  " + chat("D", "4"), '{"text":"t"}', "[1]", chat("B", "2")
    ];
    let lines = Array.from({ length: 30 }, () => pool[rand(pool.length)]!);
    const inc = new IncrementalValidator({ maxDiagnostics: 40 });
    inc.setText(lines.join("\n"));
    for (let step = 0; step < 300; step++) {
        const start = rand(lines.length + 1);
        const end = Math.min(lines.length, start + rand(3));
        const newLines = Array.from({ length: rand(3) }, () => pool[rand(pool.length)]!);
        if (lines.length - (end - start) + newLines.length === 0) newLines.push(pool[0]!);
        lines = [...lines.slice(0, start), ...newLines, ...lines.slice(end)];
        const got = inc.applyEdit({ startLine: start, endLine: end, newLines });
        const want = validateJsonl(lines.join("\n"), { maxDiagnostics: 40 });
        assert.deepEqual(summary(got), summary(want), `step ${step}: edit ${start}-${end} +${newLines.length}`);
        assert.deepEqual(got.counts, want.counts, `counts at step ${step}`);
        assert.equal(got.format, want.format);
        assert.deepEqual(got.lines.map((l) => [l.line, l.severity, l.duplicateOf]), want.lines.map((l) => [l.line, l.severity, l.duplicateOf]));
    }
});

test("big edits: a 300k-line paste and appending in slices work like a full pass", () => {
    const lines = Array.from({ length: 300_000 }, (_, i) => chat(`Q${i}`, `A${i}`));
    const inc = new IncrementalValidator();
    inc.setText("");
    const pasted = inc.applyEdit({ startLine: 0, endLine: 1, newLines: lines });
    assert.equal(pasted.lines.length, 300_000);
    assert.deepEqual(pasted.counts, { valid: 300_000, warning: 0, error: 0, blank: 0 });
    const sliced = new IncrementalValidator();
    sliced.setText("");
    for (let at = 0; at < lines.length; at += 70_000) sliced.applyEdit({ startLine: at, endLine: at === 0 ? 1 : at, newLines: lines.slice(at, at + 70_000) });
    const again = sliced.applyEdit({ startLine: 5, endLine: 6, newLines: [lines[4]!] });
    assert.equal(again.diagnostics.length, 1, summary(again).join("\n"));
    assert.equal(again.diagnostics[0]?.code, "LS205");
    assert.equal(again.diagnostics[0]?.range.start.line, 5);
    assert.ok(again.diagnostics[0]?.message.endsWith("line 5"));
});

test("bad input: empty, binary, 10k-deep nesting, a 10 MB line, invalid UTF-8, CRLF", () => {
    assert.deepEqual(codes(""), ["1:LS011"]);
    assert.deepEqual(codes("\n\n"), ["1:LS011", "1:LS008", "2:LS008"]);
    // A binary file stays one diagnostic; removing its NULs by editing brings back full validation.
    const nul = new IncrementalValidator();
    assert.deepEqual(nul.setText(`${chat("a", "b")}\n\u0000\u0001{x\n{bad`).diagnostics.map((d) => d.code), ["LS006"]);
    assert.deepEqual(summary(nul.applyEdit({ startLine: 1, endLine: 2, newLines: [chat("c", "d")] })), summary(validateJsonl(`${chat("a", "b")}\n${chat("c", "d")}\n{bad`)));
    const bin = decodeDatasetBytes(new Uint8Array([0x89, 0x50, 0x00, 0xff, 0x0a, 0x00, 0x01]));
    assert.equal(bin.invalidUtf8, true);
    assert.deepEqual(codes(bin.text, { decodedFromInvalidUtf8: true }), ["1:LS006"]);

    for (const deep of ["[".repeat(10_000) + "]".repeat(10_000), "[".repeat(10_000), `{"messages":${"[".repeat(10_000)}${"]".repeat(10_000)}}`, `{"a":${'{"a":'.repeat(10_000)}1${"}".repeat(10_001)}`]) {
        const r = validateJsonl(deep);
        assert.ok(r.diagnostics.some((d) => ["LS001", "LS002", "LS003", "LS105"].includes(d.code)), summary(r).join("\n"));
        assert.equal(rangeProblem(deep, r), undefined);
    }

    // Deep nesting under a schema problem is reported as such, at the bracket that crosses the limit.
    const deepContent = `{"messages":[{"role":"user","content":${"[".repeat(10_000)}${"]".repeat(10_000)}}]}`;
    const dr = validateJsonl(deepContent);
    assert.deepEqual(dr.diagnostics.map((d) => [d.code, d.range.start.character]), [["LS003", deepContent.indexOf("[[") + 61]]); // three levels ({, [, {) come before the content

    const big = chat("Say it long.", "x".repeat(10 * 1024 * 1024));
    const r = validateJsonl(`${big}\n${big.slice(0, -3)}\n`);
    assert.deepEqual(r.diagnostics.map((d) => `${d.range.start.line}:${d.code}`), ["0:LS009", "1:LS009", "1:LS001"]);
    assert.equal(rangeProblem(`${big}\n${big.slice(0, -3)}\n`, r), undefined);

    const crlf = `${chat("a", "b")}\r\n{bad\r\n${chat("c", "d")}\r\n`;
    assert.deepEqual(codes(crlf), ["2:LS001"]);
});
