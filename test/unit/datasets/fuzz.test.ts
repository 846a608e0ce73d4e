// Fuzzing the validator: at least 10k random and mutated lines, under every format setting and a column mapping.
// It must never throw, every range must lie within its line, and the incremental validator must agree with a
// full pass. The generator is seeded, so a failure names a reproducible seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { IncrementalValidator, validateJsonl, type ValidateOptions } from "../../../sidecar/src/datasets/index";
import { rangeProblem, summary } from "./helpers";

const SEED = Number(process.env["LORA_FUZZ_SEED"] ?? 20261122);
const LINES_PER_FILE = 400;
const FILES = 30; // 12,000 lines

function prng(seed: number): (n: number) => number {
    let s = seed >>> 0;
    return (n) => {
        // xorshift32: fast and good enough to pick characters and edits.
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        return (s >>> 0) % n;
    };
}

const NASTY = ['"', "\\", "{", "}", "[", "]", ":", ",", " ", "\t", "\uFEFF", "\uFFFD", "\u2028", "\uD800", "\uDC00", "é", "😀", "\u0001", "\\u12", "\\uD83D", "1e999", "-", "null", "true", "  "];

function randomString(rand: (n: number) => number): string {
    const len = rand(12);
    let s = "";
    for (let i = 0; i < len; i++) s += rand(4) === 0 ? NASTY[rand(NASTY.length)]! : String.fromCharCode(32 + rand(95));
    return s;
}

function validLine(rand: (n: number) => number): string {
    const str = () => randomString(rand);
    switch (rand(7)) {
        case 0: {
            const roles = ["system", "user", "assistant", "tool", "bot"];
            const messages = Array.from({ length: rand(5) }, () => ({ role: roles[rand(roles.length)], content: rand(10) === 0 ? rand(100) : str() }));
            return JSON.stringify({ messages });
        }
        case 1: return JSON.stringify({ instruction: str(), input: str(), output: str() });
        case 2: return JSON.stringify({ prompt: str(), completion: rand(5) === 0 ? null : str() });
        case 3: return JSON.stringify({ text: str() });
        case 4: return JSON.stringify({ question: str(), correct_answer: str(), support: str() });
        case 5: return JSON.stringify({ question: str(), answer: [str()], context: { nested: [str()] } });
        default: return JSON.stringify({ [str()]: str(), n: rand(1000) });
    }
}

function mutate(line: string, rand: (n: number) => number): string {
    let s = line;
    for (let k = rand(4); k >= 0; k--) {
        const at = rand(s.length + 1);
        switch (rand(7)) {
            case 0: s = s.slice(0, at) + s.slice(at + 1 + rand(3)); break; // delete
            case 1: s = s.slice(0, at) + NASTY[rand(NASTY.length)] + s.slice(at); break; // insert a nasty token
            case 2: s = s.slice(0, at); break; // truncate
            case 3: s = s.slice(0, at) + s.slice(rand(s.length + 1)); break; // splice with itself
            case 4: s = "[".repeat(rand(200)) + s; break; // deepen
            case 5: s = ` ${s}\t`; break;
            default: s = s.slice(0, at) + String.fromCharCode(rand(0x10000)) + s.slice(at); break;
        }
    }
    return s;
}

function makeLine(rand: (n: number) => number): string {
    const r = rand(10);
    if (r === 0) return randomString(rand); // pure noise
    if (r === 1) return "";
    if (r < 5) return validLine(rand);
    return mutate(validLine(rand), rand);
}

const SETTINGS: ValidateOptions[] = [
    {},
    { format: "chat" },
    { format: "instruction" },
    { format: "prompt-completion" },
    { format: "text" },
    { format: "qa", columnMapping: { format: "qa", fields: { answer: "correct_answer", context: ["support", "context"] } } },
    { maxDiagnostics: 3, maxLineLength: 40 },
    { decodedFromInvalidUtf8: true }
];

test(`fuzz: ${FILES * LINES_PER_FILE} random and mutated lines never throw and keep ranges within their line (seed ${SEED})`, () => {
    const rand = prng(SEED);
    let total = 0;
    const seen = new Set<string>();
    for (let f = 0; f < FILES; f++) {
        const lines = Array.from({ length: LINES_PER_FILE }, () => makeLine(rand));
        total += lines.length;
        const text = lines.join(rand(4) === 0 ? "\r\n" : "\n");
        const options = SETTINGS[f % SETTINGS.length]!;
        const result = validateJsonl(text, options);
        assert.equal(rangeProblem(text, result), undefined, `file ${f} (seed ${SEED})`);
        assert.equal(result.lines.length, text.split(/\r\n|\r|\n/).length);
        for (const d of result.diagnostics) {
            assert.ok(d.message.length > 0 && /^LS\d{3}$/.test(d.code));
            seen.add(d.code);
        }
        // Each line alone, too: first-line rules (BOM) and single-line files.
        for (let i = 0; i < lines.length; i += 7) assert.equal(rangeProblem(lines[i]!, validateJsonl(lines[i]!, options)), undefined, `line ${i} of file ${f}: ${JSON.stringify(lines[i])}`);
    }
    assert.ok(total >= 10_000);
    // The generator must actually reach the interesting paths, or the fuzzing proves little.
    for (const code of ["LS001", "LS002", "LS003", "LS008", "LS010", "LS101", "LS102", "LS103", "LS105", "LS201", "LS203", "LS206"]) {
        assert.ok(seen.has(code), `fuzzing never produced ${code}; seen: ${[...seen].sort().join(" ")}`);
    }
});

test(`fuzz: incremental edits with mutated lines agree with full validation (seed ${SEED})`, () => {
    const rand = prng(SEED + 1);
    let lines = Array.from({ length: 200 }, () => makeLine(rand)).map((l) => l.replace(/\u0000/g, ""));
    const inc = new IncrementalValidator({ maxDiagnostics: 10_000 });
    inc.setText(lines.join("\n"));
    for (let step = 0; step < 400; step++) {
        const start = rand(lines.length + 1);
        const end = Math.min(lines.length, start + rand(3));
        const newLines = Array.from({ length: rand(3) }, () => makeLine(rand)).map((l) => l.replace(/[\r\n]/g, ""));
        lines = [...lines.slice(0, start), ...newLines, ...lines.slice(end)];
        const got = inc.applyEdit({ startLine: start, endLine: end, newLines });
        if (step % 20 === 19 || lines.length < 3) {
            const want = validateJsonl(lines.join("\n"), { maxDiagnostics: 10_000 });
            assert.deepEqual(summary(got), summary(want), `step ${step} (seed ${SEED})`);
        }
    }
});
