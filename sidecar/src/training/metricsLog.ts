// `metrics.jsonl`: one JSON object per optimizer step, appended as training goes. The trailing
// newline is the commit marker of a record: a sidecar killed mid-write leaves a last line without
// one, which readers skip ("torn tail") and the next writer cuts off before appending.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs";
import type { MetricRecord } from "../protocol/sidecar";
import { writeFileAtomic } from "./atomicFile";

export class MetricsFormatError extends Error {
    constructor(readonly file: string, readonly line: number, detail: string) {
        super(`${file}:${line}: ${detail}`);
        this.name = "MetricsFormatError";
    }
}

export interface MetricsContents {
    records: MetricRecord[];
    /** The file ended in a partial line (no newline), which was skipped. */
    tornTail: boolean;
}

/** Parses metrics.jsonl text. Any bad line other than an unterminated last one is an error naming file, line and field. */
export function parseMetrics(text: string, file: string): MetricsContents {
    const lines = text.split("\n");
    // After the final "\n" split leaves "" (complete file) or the torn fragment.
    const tail = lines.pop() ?? "";
    const records: MetricRecord[] = [];
    lines.forEach((line, index) => {
        if (line.trim() === "") return;
        records.push(parseRecord(line, file, index + 1));
    });
    return { records, tornTail: tail.length > 0 };
}

function parseRecord(line: string, file: string, lineNumber: number): MetricRecord {
    let value: unknown;
    try {
        value = JSON.parse(line);
    } catch (error) {
        throw new MetricsFormatError(file, lineNumber, `not valid JSON (${(error as Error).message})`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new MetricsFormatError(file, lineNumber, "expected a JSON object per line");
    }
    const record = value as Record<string, unknown>;
    for (const field of ["step", "loss"] as const) {
        if (typeof record[field] !== "number" || !Number.isFinite(record[field])) {
            throw new MetricsFormatError(file, lineNumber, `field "${field}" must be a finite number, got ${JSON.stringify(record[field])}`);
        }
    }
    return record as MetricRecord;
}

export function readMetrics(file: string): MetricsContents {
    if (!existsSync(file)) return { records: [], tornTail: false };
    return parseMetrics(readFileSync(file, "utf8"), file);
}

/** Cuts an unterminated last line off, so the next append starts on a fresh line. Returns whether it cut. */
export function repairTornTail(file: string): boolean {
    if (!existsSync(file)) return false;
    const bytes = readFileSync(file);
    if (bytes.length === 0 || bytes[bytes.length - 1] === 0x0a) return false;
    const lastNewline = bytes.lastIndexOf(0x0a);
    truncateSync(file, lastNewline + 1);
    return true;
}

/**
 * Keeps only records with `step <= step`, atomically. Resume calls this with the checkpoint's step:
 * the steps after it are trained again and must not appear twice.
 */
export function truncateMetricsAfter(file: string, step: number): void {
    const { records } = readMetrics(file);
    const kept = records.filter((record) => record.step <= step);
    writeFileAtomic(file, kept.map((record) => `${JSON.stringify(record)}\n`).join(""));
}

/** Appends records with one write() each, so a kill leaves at most one partial line. */
export class MetricsWriter {
    private fd: number | undefined;

    constructor(readonly file: string) {
        repairTornTail(file);
        this.fd = openSync(file, "a");
    }

    append(record: MetricRecord): void {
        if (this.fd === undefined) throw new Error(`MetricsWriter for ${this.file} is closed`);
        const bytes = Buffer.from(`${JSON.stringify(record)}\n`, "utf8");
        let offset = 0;
        while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
    }

    /** Makes the appended lines durable; called before a checkpoint is declared complete. */
    flush(): void {
        if (this.fd !== undefined) fsyncSync(this.fd);
    }

    close(): void {
        if (this.fd === undefined) return;
        fsyncSync(this.fd);
        closeSync(this.fd);
        this.fd = undefined;
    }
}
