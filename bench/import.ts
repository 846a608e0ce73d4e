// Benchmark of `lora-studio import` against a bare read of the same file, in the same run.
//   npm run build && node out/bench/import.mjs [--rows N] [--runs N] [--csv-only]
// Generates a SciQ-shaped CSV and a Snappy Parquet file (1M rows by default) in the OS temp directory, then reports
// medians of rows/s and MB/s (of the input file) for:
//   - bare read: the import's reader alone iterating every row (csv-parse, or hyparquet one row group at a time);
//   - import: the same file through importDataset (mapping, templates, JSON, temp file + rename);
//   - the CLI as a child process, with its peak RSS (/usr/bin/time), which shows the memory stays bounded.
// Goal (issue 14): the import within 2× of the bare read, and a peak RSS that does not grow with the file.
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parquetWriteBuffer } from "hyparquet-writer";
import { openRowSource } from "../sidecar/src/import/readers/index";
import { importDataset } from "../sidecar/src/import/run";

const { values } = parseArgs({ options: { rows: { type: "string" }, runs: { type: "string" }, "csv-only": { type: "boolean" } } });
/** The 1 GB check (`--rows 3500000 --csv-only`): hyparquet-writer builds its file in memory, the CSV is appended. */
const CSV_ONLY = values["csv-only"] === true;
const ROWS = Number(values.rows ?? 1_000_000);
const RUNS = Math.max(1, Number(values.runs ?? 3));
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Deterministic pseudo-random words, so the files are the same every run. */
function words(i: number, n: number): string {
    let seed = (i * 2654435761) >>> 0;
    const out: string[] = [];
    for (let k = 0; k < n; k++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        out.push(`w${(seed >>> 8) % 50_000}`);
    }
    return out.join(" ");
}

const COLUMNS = ["question", "correct_answer", "support", "distractor1"] as const;
function row(i: number): Record<(typeof COLUMNS)[number], string> {
    return { question: `Question ${i}: ${words(i, 8)}?`, correct_answer: words(i + 1, 2), support: `${words(i + 2, 30)}.`, distractor1: words(i + 3, 2) };
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)]!;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
    const times: number[] = [];
    for (let r = 0; r < RUNS; r++) {
        const t0 = performance.now();
        await fn();
        times.push(performance.now() - t0);
    }
    return median(times);
}

const dir = mkdtempSync(join(tmpdir(), "ls-bench-import-"));
try {
    const csv = join(dir, "sciq.csv");
    const parquet = join(dir, "sciq.parquet");
    const t0 = performance.now();
    // In chunks: one string of a 1 GB file is past V8's longest string.
    writeFileSync(csv, `${COLUMNS.join(",")}\n`);
    for (let start = 0; start < ROWS; start += 100_000) {
        const lines: string[] = [];
        for (let i = start; i < Math.min(ROWS, start + 100_000); i++) lines.push(COLUMNS.map((c) => row(i)[c]).join(","));
        appendFileSync(csv, `${lines.join("\n")}\n`);
    }
    const inputs = [csv];
    if (!CSV_ONLY) {
        const data = COLUMNS.map((name) => ({ name, data: Array.from({ length: ROWS }, (_, i) => row(i)[name]), type: "STRING" as const }));
        writeFileSync(parquet, new Uint8Array(parquetWriteBuffer({ columnData: data, codec: "SNAPPY", rowGroupSize: 100_000 })));
        inputs.push(parquet);
    }
    console.log(`generated ${ROWS} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${inputs.map((f) => `${f === csv ? "CSV" : "Parquet (Snappy)"} ${(statSync(f).size / 1e6).toFixed(1)} MB`).join(", ")}; median of ${RUNS} run(s)`);

    const hasTime = existsSync("/usr/bin/time");
    console.log("| input | bare read rows/s | import rows/s | import / bare | import MB/s | CLI s | CLI peak RSS |");
    console.log("| --- | --- | --- | --- | --- | --- | --- |");
    for (const file of inputs) {
        const mb = statSync(file).size / 1e6;
        const out = join(dir, "out.jsonl");
        const bare = await timed(async () => {
            const source = await openRowSource(file);
            let n = 0;
            for await (const _ of source.rows()) n++;
            await source.close();
            if (n !== ROWS) throw new Error(`bare read: ${n} rows, expected ${ROWS}`);
        });
        const full = await timed(async () => {
            rmSync(out, { force: true });
            const r = await importDataset({ input: file, out });
            if (r.rows !== ROWS) throw new Error(`import: ${r.rows} rows, expected ${ROWS}`);
        });
        rmSync(out, { force: true });
        const cli = join(root, "bin", "lora-studio.mjs");
        const c0 = performance.now();
        const child = hasTime
            ? spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, cli, "import", file, "--out", out], { encoding: "utf8" })
            : spawnSync(process.execPath, [cli, "import", file, "--out", out], { encoding: "utf8" });
        const cliSeconds = (performance.now() - c0) / 1000;
        if (child.status !== 0) throw new Error(`CLI failed: ${child.stderr}`);
        const rssKb = hasTime ? Number(child.stderr.trim().split("\n").pop()) : Number.NaN;
        rmSync(out, { force: true });
        const rate = (ms: number): number => ROWS / (ms / 1000);
        console.log(`| ${file.endsWith(".csv") ? "CSV" : "Parquet (Snappy)"} | ${rate(bare).toFixed(0)} | ${rate(full).toFixed(0)} | ${(bare / full).toFixed(2)} | ${(mb / (full / 1000)).toFixed(1)} | ${cliSeconds.toFixed(1)} | ${Number.isNaN(rssKb) ? "n/a" : `${(rssKb / 1024).toFixed(0)} MiB`} |`);
    }
} finally {
    rmSync(dir, { recursive: true, force: true });
}
