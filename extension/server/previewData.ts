// Answers the preview's custom requests (DatasetSummaryRequest, DatasetRowsRequest) from a validated document.
import type { ValidationResult } from "../../sidecar/src/datasets/index";
import { DatasetRowsRequest, type DatasetRow, type DatasetRowsResult, type DatasetSummary, type DuplicateEntry, type Histogram } from "../../sidecar/src/protocol/languageServer";
import type { DatasetDocument } from "./datasetDocument";

const HISTOGRAM_BINS = 40;
const MAX_DUPLICATES_LISTED = 1000;
/** Characters of each line sent to the table; the full line is one click away in the editor. */
const ROW_TEXT_CHARS = 300;
/** Rough characters per token, used only to draw an estimated cut-off on the character histogram. */
const CHARS_PER_TOKEN_ESTIMATE = 4;

export interface TokenInfo {
    counts: readonly (number | null)[] | null;
    /** Why there are no counts, or "" when there are. */
    status: string;
}

export function buildSummary(doc: DatasetDocument, result: ValidationResult, tokens: TokenInfo, maxSequenceLength: number): DatasetSummary {
    const formats: Record<string, number> = {};
    const roles: Record<string, number> = {};
    const duplicates: DuplicateEntry[] = [];
    let duplicateCount = 0;
    const chars: number[] = [];
    const lastLine = result.lines.length - 1;
    for (const info of result.lines) {
        // The empty string after a final newline is the end of the file, not a line of the dataset.
        if (info.line === lastLine && info.format === "blank" && info.chars === 0) continue;
        formats[info.format] = (formats[info.format] ?? 0) + 1;
        for (const role in info.roles) roles[role] = (roles[role] ?? 0) + info.roles[role]!;
        if (info.format !== "blank") chars.push(info.chars);
        if (info.duplicateOf !== undefined) {
            duplicateCount++;
            if (duplicates.length < MAX_DUPLICATES_LISTED) duplicates.push({ line: info.line, duplicateOf: info.duplicateOf });
        }
    }
    const tokenValues = tokens.counts ? tokens.counts.filter((n): n is number => typeof n === "number" && n >= 0) : null;
    const estimatedCharCutoff = maxSequenceLength * CHARS_PER_TOKEN_ESTIMATE;
    return {
        uri: doc.uri,
        version: doc.version,
        format: result.format,
        totalLines: result.lines.length,
        counts: result.counts,
        formats,
        roles,
        charHistogram: histogram(chars, estimatedCharCutoff, true),
        tokenHistogram: tokenValues ? histogram(tokenValues, maxSequenceLength, false) : null,
        tokenStatus: tokens.status,
        maxSequenceLength,
        truncatedLines: tokenValues ? tokenValues.filter((n) => n > maxSequenceLength).length : null,
        duplicates,
        duplicateCount
    };
}

/** Past this multiple of the longest value, the cut-off is drawn at the chart's edge instead of stretching the axis. */
const MAX_CUTOFF_STRETCH = 1.25;

/** Linear bins from 0 to the longest value (or to the cut-off when it is close), so bars keep their resolution. */
export function histogram(values: readonly number[], cutoff: number | null, cutoffEstimated: boolean): Histogram {
    let max = 0;
    for (const v of values) if (v > max) max = v;
    const span = Math.max(1, cutoff !== null && cutoff <= max * MAX_CUTOFF_STRETCH ? Math.max(max, cutoff) : max);
    const binWidth = Math.max(1, Math.ceil((span + 1) / HISTOGRAM_BINS));
    const counts = new Array<number>(Math.ceil((span + 1) / binWidth)).fill(0);
    for (const v of values) counts[Math.min(counts.length - 1, Math.floor(v / binWidth))]!++;
    return { binWidth, counts, max, cutoff, cutoffEstimated };
}

export function buildRows(doc: DatasetDocument, result: ValidationResult, tokenCounts: readonly (number | null)[] | null, offset: number, limit: number): DatasetRowsResult {
    const total = result.lines.length;
    const start = Math.max(0, Math.min(Math.floor(offset), total));
    const end = Math.min(total, start + Math.max(0, Math.min(Math.floor(limit), DatasetRowsRequest.MAX_ROWS_PER_PAGE)));
    const rows: DatasetRow[] = [];
    for (let i = start; i < end; i++) {
        const info = result.lines[i]!;
        const text = doc.buffer.line(info.line);
        rows.push({
            line: info.line,
            severity: info.severity,
            format: info.format,
            chars: info.chars,
            tokens: countOrNull(tokenCounts?.[info.line]),
            roles: info.roles,
            duplicateOf: info.duplicateOf ?? null,
            text: text.length > ROW_TEXT_CHARS ? `${text.slice(0, ROW_TEXT_CHARS)}…` : text
        });
    }
    return { uri: doc.uri, version: doc.version, total, offset: start, rows };
}

function countOrNull(count: number | null | undefined): number | null {
    return typeof count === "number" && count >= 0 ? count : null;
}
