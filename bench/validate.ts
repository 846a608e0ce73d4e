// Benchmark of the dataset validator against bare JSON.parse of the same lines, in the same run.
//   npm run build && node out/bench/validate.mjs [--lines N] [--runs N]
// Generates a chat file (200k lines, about 50 MB, by default) in the OS temp directory, then reports medians
// (wall time, and this process's CPU time, which is steadier on a busy machine) of:
//   - bare JSON.parse of every line (the reference),
//   - validateJsonl in-process (full pass),
//   - the CLI as a child process (`lora-studio validate --json`, including node start-up and reading the file),
//   - IncrementalValidator.applyEdit of one line in the middle of the file.
// Goals (issue 3): full validation ≥ 0.5× JSON.parse throughput; a one-line edit under 50 ms.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { IncrementalValidator, validateJsonl } from "../sidecar/src/datasets/index";

const { values } = parseArgs({ options: { lines: { type: "string" }, runs: { type: "string" } } });
const LINES = Number(values.lines ?? 200_000);
const RUNS = Math.max(3, Number(values.runs ?? 5));
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Deterministic pseudo-random words so the file is the same every run and lines are distinct. */
function makeLine(i: number): string {
    let seed = (i * 2654435761) >>> 0;
    const word = () => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return `w${(seed >>> 8) % 50_000}`;
    };
    const words = (n: number) => Array.from({ length: n }, word).join(" ");
    return JSON.stringify({
        messages: [
            { role: "system", content: "You answer questions about the fictional world." },
            { role: "user", content: `Question ${i}: ${words(6)}?` },
            { role: "assistant", content: `${words(12)}.` }
        ]
    });
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)]!;
}

interface Timing {
    wall: number;
    /** This process's CPU time (user + system, all threads): steadier than wall time on a shared, busy machine. */
    cpu: number;
}

function cpuMs(): number {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
}

function time(fn: () => void): Timing {
    const c0 = cpuMs();
    const t0 = performance.now();
    fn();
    return { wall: performance.now() - t0, cpu: cpuMs() - c0 };
}

const dir = mkdtempSync(join(tmpdir(), "lora-studio-bench-"));
try {
    const lines = Array.from({ length: LINES }, (_, i) => makeLine(i));
    const text = `${lines.join("\n")}\n`;
    const file = join(dir, "chat.jsonl");
    writeFileSync(file, text);
    const mb = Buffer.byteLength(text) / 1e6;
    console.log(`validate bench: ${LINES} lines, ${mb.toFixed(1)} MB, median of ${RUNS} runs`);

    // Reference: split + JSON.parse of every line, what any loader must do at least.
    const parseMs: Timing[] = [];
    const fullMs: Timing[] = [];
    let check = 0;
    for (let r = 0; r < RUNS; r++) {
        parseMs.push(time(() => {
            for (const line of text.split("\n")) if (line) check += (JSON.parse(line) as { messages: unknown[] }).messages.length;
        }));
        fullMs.push(time(() => {
            const result = validateJsonl(text);
            if (result.diagnostics.length !== 0) throw new Error(`bench data should be clean, got ${result.diagnostics[0]!.message}`);
        }));
    }
    if (check !== 3 * LINES * RUNS) throw new Error("JSON.parse reference did not see every line");

    // The CLI's own CPU time is not visible from here (children are not in process.cpuUsage), so wall time only.
    const cliMs: number[] = [];
    const startupMs: number[] = [];
    const tiny = join(dir, "one.jsonl");
    writeFileSync(tiny, `${lines[0]}\n`);
    const runCli = (path: string): number => {
        const t0 = performance.now();
        const p = spawnSync(process.execPath, [join(root, "bin", "lora-studio.mjs"), "validate", "--json", path], { encoding: "utf8", maxBuffer: 1 << 26 });
        if (p.status !== 0) throw new Error(`CLI failed (${p.status}): ${p.stderr}`);
        return performance.now() - t0;
    };
    for (let r = 0; r < RUNS; r++) {
        cliMs.push(runCli(file));
        // The same command on a one-line file: process start-up and module loading, to read the line above.
        startupMs.push(runCli(tiny));
    }

    // One-line edit in the middle of the file: re-validate that line plus the file-wide checks.
    const inc = new IncrementalValidator();
    inc.setText(text);
    const mid = Math.floor(LINES / 2);
    const editMs: number[] = [];
    const insertMs: number[] = [];
    const newLine = '{"messages":[{"role":"user","content":"new"},{"role":"assistant","content":"line"}]}';
    for (let r = 0; r < Math.max(RUNS, 9); r++) {
        const edited = r % 2 === 0 ? lines[mid]!.replace("Question", "Query") : lines[mid]!;
        editMs.push(time(() => inc.applyEdit({ startLine: mid, endLine: mid + 1, newLines: [edited] })).wall);
        // Enter pressed near the top, then the line removed again: every later line moves.
        insertMs.push(time(() => inc.applyEdit({ startLine: 10, endLine: 10, newLines: [newLine] })).wall);
        inc.applyEdit({ startLine: 10, endLine: 11, newLines: [] });
    }

    const pw = median(parseMs.map((t) => t.wall));
    const pc = median(parseMs.map((t) => t.cpu));
    const fw = median(fullMs.map((t) => t.wall));
    const fc = median(fullMs.map((t) => t.cpu));
    const c = median(cliMs);
    const e = median(editMs);
    const ins = median(insertMs);
    const row = (name: string, wall: number, cpu?: number) =>
        console.log(`  ${name.padEnd(36)} wall ${wall.toFixed(0).padStart(6)} ms ${(mb / (wall / 1000)).toFixed(1).padStart(6)} MB/s ${(pw / wall).toFixed(2)}×` +
            (cpu === undefined ? "" : `   cpu ${cpu.toFixed(0).padStart(6)} ms ${(pc / cpu).toFixed(2)}×`));
    row("JSON.parse of each line (reference)", pw, pc);
    row("validateJsonl (in-process)", fw, fc);
    row("lora-studio validate (CLI process)", c);
    console.log(`  ${"  of which CLI start-up (1-line file)".padEnd(36)} wall ${median(startupMs).toFixed(0).padStart(6)} ms`);
    console.log(`  ${"one-line edit (applyEdit)".padEnd(36)} wall ${e.toFixed(1).padStart(6)} ms (goal < 50 ms)`);
    console.log(`  ${"one-line insert near the top".padEnd(36)} wall ${ins.toFixed(1).padStart(6)} ms`);
    console.log(`  goal full pass ≥ 0.50× JSON.parse: ${pw / fw >= 0.5 ? "met" : "NOT met"} on wall time (${(pw / fw).toFixed(2)}×), ${pc / fc >= 0.5 ? "met" : "NOT met"} on CPU time (${(pc / fc).toFixed(2)}×); edit < 50 ms: ${e < 50 ? "met" : "NOT met"}`);
} finally {
    rmSync(dir, { recursive: true, force: true });
}
