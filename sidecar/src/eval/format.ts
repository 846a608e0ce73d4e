// The human-readable face of an EvalReport for the terminal: a before/after table (one line per example, long
// texts cut) and the summary. Pure, so the CLI test can check it without a model.
import { basename } from "node:path";
import type { EvalReport, EvalRow } from "../protocol/sidecar";

const TEXT_WIDTH = 22;

/** One line of text, cut with an ellipsis; newlines shown as ⏎ so a row stays one line. */
export function cell(text: string, width = TEXT_WIDTH): string {
    const flat = text.replace(/\r?\n/g, "⏎");
    const chars = [...flat];
    return chars.length <= width ? flat.padEnd(width) : `${chars.slice(0, width - 1).join("")}…`;
}

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
const mark = (em: number): string => (em === 1 ? "✓" : "✗");

function rowLine(row: EvalRow, lineWidth: number): string {
    return [
        String(row.line).padStart(lineWidth),
        cell(row.reference),
        `${mark(row.em.base)} ${cell(row.base)}`,
        `${mark(row.em.tuned)} ${cell(row.tuned)}`,
        `${row.loss.base.toFixed(3)} → ${row.loss.tuned.toFixed(3)}`
    ].join("  ");
}

export function formatReport(report: EvalReport): string {
    const lineWidth = Math.max(4, ...report.rows.map((r) => String(r.line).length));
    const header = ["line".padStart(lineWidth), cell("reference"), `  ${cell("base")}`, `  ${cell("tuned")}`, "loss base → tuned"].join("  ");
    const out = [header, "-".repeat(header.length), ...report.rows.map((r) => rowLine(r, lineWidth)), ""];
    for (const s of report.skipped) out.push(`skipped ${basename(s.file)}:${s.line}: ${s.reason}`);
    if (report.skipped.length > 0) out.push("");
    const s = report.summary;
    const files = report.data.map((f) => basename(f)).join(", ");
    out.push(`${s.rows} examples from ${files}${s.skipped > 0 ? ` (${s.skipped} skipped)` : ""}${report.cancelled ? " — cancelled before the end" : ""}`);
    out.push(`${"".padEnd(20)}${"base".padStart(10)}${"tuned".padStart(10)}`);
    out.push(`${"exact match".padEnd(20)}${percent(s.em.base).padStart(10)}${percent(s.em.tuned).padStart(10)}`);
    out.push(`${"token F1".padEnd(20)}${s.f1.base.toFixed(3).padStart(10)}${s.f1.tuned.toFixed(3).padStart(10)}`);
    if (s.yesNo) out.push(`${`yes/no/maybe (${s.yesNo.rows})`.padEnd(20)}${percent(s.yesNo.base).padStart(10)}${percent(s.yesNo.tuned).padStart(10)}`);
    out.push(`${"loss (nats/token)".padEnd(20)}${s.loss.base.toFixed(4).padStart(10)}${s.loss.tuned.toFixed(4).padStart(10)}`);
    if (report.files) out.push("", `report: ${report.files.json}`, `        ${report.files.csv}`);
    return `${out.join("\n")}\n`;
}
