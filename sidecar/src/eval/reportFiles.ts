// An evaluation report on disk: eval-<timestamp>.json (the EvalReport as is) and .csv (one line per row, for
// spreadsheets), each written atomically, side by side in the run folder or the chosen directory.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { EvalReport, EvalRow } from "../protocol/sidecar";
import { writeFileAtomic, writeJsonAtomic } from "../training/atomicFile";

export const CSV_COLUMNS = [
    "file", "line", "question", "reference", "base", "tuned",
    "em_base", "em_tuned", "f1_base", "f1_tuned", "yesno_base", "yesno_tuned", "loss_base", "loss_tuned"
] as const;

/** RFC 4180: quote a field with a comma, quote, CR or LF, doubling its quotes. */
export function csvField(value: string | number | boolean | null): string {
    const text = value === null ? "" : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(row: EvalRow): string {
    const yesNo = (side: "base" | "tuned"): boolean | null => (row.yesNo === null ? null : row.yesNo[side]);
    return [
        row.file, row.line, row.question, row.reference, row.base, row.tuned,
        row.em.base, row.em.tuned, row.f1.base, row.f1.tuned, yesNo("base"), yesNo("tuned"), row.loss.base, row.loss.tuned
    ].map(csvField).join(",");
}

export function reportCsv(report: EvalReport): string {
    return `${[CSV_COLUMNS.join(","), ...report.rows.map(csvLine)].join("\r\n")}\r\n`;
}

/** `eval-20261122T093012Z`, with -2, -3… when two evaluations finish within the same second. */
function freeStem(dir: string, createdAt: string): string {
    const stamp = createdAt.replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
    for (let n = 1; ; n++) {
        const stem = n === 1 ? `eval-${stamp}` : `eval-${stamp}-${n}`;
        if (!existsSync(join(dir, `${stem}.json`)) && !existsSync(join(dir, `${stem}.csv`))) return stem;
    }
}

/** Writes both files and records their paths in the report (the JSON file includes them too). */
export function writeReportFiles(report: EvalReport, dir: string): { json: string; csv: string } {
    mkdirSync(dir, { recursive: true });
    const stem = freeStem(dir, report.createdAt);
    const files = { json: join(dir, `${stem}.json`), csv: join(dir, `${stem}.csv`) };
    report.files = files;
    writeFileAtomic(files.csv, reportCsv(report));
    writeJsonAtomic(files.json, report);
    return files;
}
