// The fast chat path (sidecar/src/datasets/fastChat.ts) may only accept lines the full path (JSON.parse, ajv, the
// content checks) finds nothing wrong with, and must then yield the same result: kind, role counts and the
// duplicate key. Property test over generated chat lines in many spellings, their mutations, and every fixture line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { fastChatLine } from "../../../sidecar/src/datasets/fastChat";
import { checkLine, type LineCheckOptions, type LineResult } from "../../../sidecar/src/datasets/lineCheck";
import { schemaValidator } from "../../../sidecar/src/datasets/schemas";
import { fixturesDir, readFixture } from "./helpers";

const SEED = Number(process.env["LORA_FUZZ_SEED"] ?? 20261123);

function prng(seed: number): (n: number) => number {
    let s = seed >>> 0 || 1;
    return (n) => {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        return (s >>> 0) % n;
    };
}

const PIECES = ["a", "Zorbia", " ", "  ", "\t", "\\", '"', "\n", "\u0000", "\u001f", "\u2028", "\u00a0", "\uFEFF", "\uD800", "é", "😀", "\\u0041", "{", "}", "[", "]", ",", ":"];

function content(rand: (n: number) => number): string {
    const n = rand(6);
    let s = "";
    for (let i = 0; i < n; i++) s += rand(3) === 0 ? PIECES[rand(PIECES.length)]! : "word".slice(0, 1 + rand(4));
    // Long contents exercise the hash's sampling.
    if (rand(8) === 0) s = s.repeat(20);
    return s;
}

const ROLES = ["system", "user", "assistant", "assistant", "user", "tool", "System"];

/** Mostly well-formed conversations: an optional system prompt, then user/assistant turns with trimmed text. */
function cleanMessages(rand: (n: number) => number): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = rand(2) === 0 ? [{ role: "system", content: `sys ${content(rand)} x` }] : [];
    for (let turns = 1 + rand(3); turns > 0; turns--) {
        out.push({ role: "user", content: `q${content(rand)}?` }, { role: "assistant", content: `A${content(rand)}.` });
    }
    return out;
}

/** A chat line as some tool might write it: compact, Python's json.dumps spacing, tabs, reordered or extra keys. */
function chatLine(rand: (n: number) => number): string {
    const messages = rand(2) === 0 ? cleanMessages(rand) : Array.from({ length: rand(5) }, () => {
        const m: Record<string, unknown> = rand(6) === 0 ? { content: content(rand), role: ROLES[rand(ROLES.length)] } : { role: ROLES[rand(ROLES.length)], content: content(rand) };
        if (rand(20) === 0) m["name"] = "x";
        if (rand(30) === 0) m["content"] = rand(2) === 0 ? null : 5;
        return m;
    });
    const value: Record<string, unknown> = rand(15) === 0 ? { id: 1, messages } : { messages };
    switch (rand(4)) {
        case 0: return JSON.stringify(value);
        case 1: return JSON.stringify(value).replace(/","/g, '", "').replace(/":/g, '": ').replace(/},{/g, "}, {");
        case 2: return JSON.stringify(value, null, "\t").replace(/\n/g, "");
        default: return ` ${JSON.stringify(value, null, 1).replace(/\n/g, " ")} `;
    }
}

function mutate(line: string, rand: (n: number) => number): string {
    let s = line;
    for (let k = rand(3); k >= 0; k--) {
        const at = rand(s.length + 1);
        switch (rand(6)) {
            case 0: s = s.slice(0, at) + s.slice(at + 1 + rand(3)); break;
            case 1: s = s.slice(0, at) + PIECES[rand(PIECES.length)] + s.slice(at); break;
            case 2: s = s.slice(0, at); break;
            case 3: s = s.slice(0, at) + s.slice(rand(s.length + 1)); break;
            case 4: s = s.slice(0, at) + String.fromCharCode(rand(0x80)) + s.slice(at); break;
            default: s = s.replace("user", "usr").replace('"content"', '"contents"'); break;
        }
    }
    return s;
}

/** Codes about the line's bytes and spacing, found before its JSON is read; the fast path keeps them. */
const LINE_LEVEL = new Set(["LS004", "LS005", "LS007", "LS009", "LS010"]);

const OPTIONS: LineCheckOptions = { format: "auto", mapping: undefined, maxLineLength: 32_768, decodedFromInvalidUtf8: false };

function check(text: string, useFastPath: boolean, opts: LineCheckOptions = OPTIONS): LineResult {
    const into: LineResult = { kind: "blank", diagnostics: undefined, key: undefined, roles: undefined, hasNul: false };
    checkLine(text, true, opts, into, useFastPath);
    return into;
}

/** Comparable form of a result (fix closures dropped). */
function plain(r: LineResult): unknown {
    return { kind: r.kind, key: r.key, roles: r.roles, hasNul: r.hasNul, diagnostics: r.diagnostics?.map(({ start, end, code, message, severity }) => ({ start, end, code, message, severity })) };
}

/** The line's JSON value without surrounding whitespace or BOM, as checkLine trims it. */
function body(text: string): { start: number; end: number } {
    let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    let end = text.length;
    const space = (c: number) => c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0xa0 || c === 0xfeff;
    while (start < end && space(text.charCodeAt(start))) start++;
    while (end > start && space(text.charCodeAt(end - 1))) end--;
    return { start, end };
}

test(`fast chat path never accepts a line the full path flags, and agrees on every result (seed ${SEED})`, () => {
    const rand = prng(SEED);
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) lines.push(chatLine(rand));
    for (let i = 0; i < 6000; i++) lines.push(mutate(chatLine(rand), rand));
    for (const name of readdirSync(fixturesDir())) lines.push(...readFixture(name).text.split(/\r\n|\r|\n/));
    const chat = schemaValidator("chat");
    let accepted = 0;
    let fullyClean = 0;
    for (const line of lines) {
        const { start, end } = body(line);
        const fast = start < end && fastChatLine(line, start, end);
        const full = check(line, false);
        const clean = full.kind === "chat" && full.diagnostics === undefined;
        if (clean) fullyClean++;
        if (fast) {
            accepted++;
            // Accepted means: JSON.parse takes it, ajv's chat schema takes it, and no check has anything to say.
            const value = JSON.parse(line.slice(start, end)) as unknown;
            assert.ok(chat(value), `ajv rejects a line the fast path accepted: ${JSON.stringify(line)}`);
            assert.ok(full.kind === "chat" && !full.diagnostics?.some((d) => !LINE_LEVEL.has(d.code)), `the full path flags a line the fast path accepted: ${JSON.stringify(line)} → ${JSON.stringify(plain(full))}`);
        }
        // With or without the fast path, checkLine's answer is the same (duplicate key and role counts included).
        assert.deepEqual(plain(check(line, true)), plain(full), `results differ for ${JSON.stringify(line)}`);
    }
    // The generator must reach both sides, and the fast path must take most clean lines, or this proves little.
    assert.ok(accepted > 1000, `fast path accepted only ${accepted} lines`);
    assert.ok(accepted >= fullyClean * 0.7, `fast path accepted ${accepted} of ${fullyClean} clean lines`);
    assert.ok(lines.length - accepted > 5000);
});

test("fast chat path takes the common spellings and computes the same duplicate key as the full path", () => {
    const messages = [{ role: "system", content: "Be brief." }, { role: "user", content: "Capital of Zorbia?\nOne word." }, { role: "assistant", content: "Quillport." }];
    const compact = JSON.stringify({ messages });
    const spaced = JSON.stringify({ messages }).replace(/","/g, '", "').replace(/":/g, '": ').replace(/},{/g, "}, {");
    const escaped = compact.replace("Quillport", "\\u0051uillport");
    for (const line of [compact, spaced, escaped]) {
        assert.ok(fastChatLine(line, 0, line.length), `not accepted: ${line}`);
        assert.deepEqual(plain(check(line, true)), plain(check(line, false)));
    }
    // Same example, three spellings: one duplicate key.
    assert.equal(check(spaced, true).key, check(compact, true).key);
    assert.equal(check(escaped, true).key, check(compact, true).key);
    // Long contents, escapes included, do not exhaust the regular expression engine's stack.
    const long = JSON.stringify({ messages: [{ role: "user", content: `a${"b\n\"c".repeat(60_000)}` }, { role: "assistant", content: "d".repeat(300_000) }] });
    assert.ok(fastChatLine(long, 0, long.length));
    assert.deepEqual(plain(check(long, true)), plain(check(long, false)));
    // A column mapping or a forced non-chat format always takes the full path.
    assert.equal(check(compact, true, { ...OPTIONS, format: "qa" }).kind, "qa");
});
