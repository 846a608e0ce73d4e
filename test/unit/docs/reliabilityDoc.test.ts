// docs/reliability.md (issue 12.10): every row of its tables names the test (or bench) that covers the case, and that
// file and test must exist, so a renamed or deleted test turns this red instead of leaving a stale row. `npm test` runs
// the named tests themselves, so the table is re-checked on every CI run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../support/repoRoot";

interface Reference {
    file: string;
    /** A test's name, or the start of it when the doc ends it with "…". */
    name?: string;
}

/** `path` › name; `path` › name…; `path` (a whole file, or a bench) — several separated by ";". */
export function referencesIn(cell: string): Reference[] {
    const refs: Reference[] = [];
    for (const part of cell.split(/;\s*(?=`)/)) {
        const m = /^\s*`([^`]+\.(?:ts|mjs|sh))`(?:\s*›\s*(.+?))?\s*(?:\(.*\))?\s*$/.exec(part);
        if (!m) continue;
        const name = m[2]?.replace(/…$/, "").replace(/`/g, "").trim();
        refs.push({ file: m[1]!, ...(name ? { name } : {}) });
    }
    return refs;
}

/** Whether `text` has the pieces of `name` between "…" elisions, in order ("starts … ends"). */
function containsInOrder(text: string, name: string): boolean {
    let at = 0;
    for (const piece of name.split("…").map((p) => p.trim()).filter((p) => p !== "")) {
        const found = text.indexOf(piece, at);
        if (found < 0) return false;
        at = found + piece.length;
    }
    return true;
}

/** The table rows of the doc: [section, case, test cell]. */
function rows(doc: string): Array<[string, string, string]> {
    const out: Array<[string, string, string]> = [];
    let section = "";
    // Only the case tables ("| Case | Test | Result |"); other tables (bench figures) are prose.
    let inCaseTable = false;
    for (const line of doc.split("\n")) {
        if (line.startsWith("#")) section = line.replace(/^#+\s*/, "");
        if (!line.startsWith("|")) inCaseTable = false;
        if (line.startsWith("| Case | Test |")) inCaseTable = true;
        if (!inCaseTable || line.startsWith("| Case") || line.startsWith("| ---")) continue;
        const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
        if (cells.length >= 3) out.push([section, cells[0]!, cells[1]!]);
    }
    return out;
}

test("every row of docs/reliability.md names an existing test file and a test in it", () => {
    const doc = readFileSync(join(repoRoot, "docs", "reliability.md"), "utf8");
    const table = rows(doc);
    assert.ok(table.length >= 20, `the tables have rows (${table.length})`);
    let previous: Reference[] = [];
    for (const [section, what, cell] of table) {
        // "same test" points at the row above.
        const refs = /^same tests?$/i.test(cell) ? previous : referencesIn(cell);
        previous = refs;
        assert.ok(refs.length > 0, `${section} › "${what}": names no test (\`path\` › name)`);
        for (const ref of refs) {
            const path = join(repoRoot, ref.file);
            assert.ok(existsSync(path), `${section} › "${what}": ${ref.file} does not exist`);
            if (ref.name === undefined) continue;
            // The source with template-literal parts and quotes as written; the doc quotes a literal stretch of the name.
            const source = readFileSync(path, "utf8").replace(/`/g, "");
            assert.ok(containsInOrder(source, ref.name), `${section} › "${what}": no test named "${ref.name}" in ${ref.file}`);
        }
    }
});

test("the row parser reads the forms the doc uses, so a malformed row cannot pass unread", () => {
    assert.deepEqual(referencesIn("`test/a.test.ts` › two `x` at once; `test/b.test.ts` › starts like this…"), [
        { file: "test/a.test.ts", name: "two x at once" },
        { file: "test/b.test.ts", name: "starts like this" }
    ]);
    assert.deepEqual(referencesIn("`bench/eval-threads.ts`"), [{ file: "bench/eval-threads.ts" }]);
    assert.deepEqual(referencesIn("`test/integration/train-oom.test.ts` (real engine with a named fake)"), [{ file: "test/integration/train-oom.test.ts" }]);
    assert.deepEqual(referencesIn("no test here"), []);
    assert.ok(containsInOrder('test("a start, then more", …); test("the end")', "a start… the end"));
    assert.ok(!containsInOrder('test("the end"); test("a start")', "a start… the end"), "the pieces must come in order");
});
