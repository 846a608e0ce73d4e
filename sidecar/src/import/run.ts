// The import itself: open the input, resolve the mapping, convert row by row and stream the examples to a temporary
// file beside --out (and --held-out), renamed into place only when every row has converted. On any error the
// temporary files are removed, so nothing partial is left behind. Memory holds one row (one Parquet row group).
import { createWriteStream, existsSync, realpathSync, type WriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { once } from "node:events";
import { rowConverter, seededSplit } from "./convert";
import { CellError, ImportCancelledError, ImportRequestError, ImportRowError, ImportTargetExistsError, ImportWriteError } from "./errors";
import { describeMapping, resolveMapping, type MappingRequest, type ResolvedMapping } from "./mapping";
import { openRowSource } from "./readers/index";
import type { ChatMessage, InputFormat } from "./types";

export interface ImportOptions extends MappingRequest {
    input: string;
    format?: InputFormat;
    out?: string;
    heldOut?: string;
    /** Fraction of rows written to heldOut instead of out. */
    split?: number;
    seed?: number;
    /** Convert the first N rows and return them; nothing is written. */
    preview?: number;
    /** Called every PROGRESS_EVERY_ROWS rows and at the end. */
    onProgress?: (p: ImportProgress) => void;
    /** Called once the mapping is resolved: its description, one line per message, and what it was resolved from. */
    onMapping?: (lines: string[], resolved: ResolvedImportMapping) => void;
    /** Stops the import between two rows (ImportCancelledError); nothing is written. */
    signal?: AbortSignal;
    /** "refuse": an existing out or held-out file fails with ImportTargetExistsError (the editor asks first). Default "replace". */
    existing?: "replace" | "refuse";
}

/** The mapping with the file's columns and format, for a preview that shows what was detected. */
export interface ResolvedImportMapping extends ResolvedMapping {
    format: InputFormat;
    columns: string[];
}

export interface ImportProgress {
    rows: number;
    bytes: number;
    totalBytes: number;
    totalRows?: number;
}

export interface ImportResult {
    rows: number;
    written: number;
    heldOut: number;
    preview: Array<{ messages: ChatMessage[] }>;
}

export const PROGRESS_EVERY_ROWS = 10_000;

/** One example as a line of the output; the preview shows these same lines. */
export function exampleLine(messages: readonly ChatMessage[]): string {
    return JSON.stringify({ messages });
}
/** How many rows the mapping is detected from (conversation columns are recognized by their values). */
const SAMPLE_ROWS = 20;

function samePath(a: string, b: string): boolean {
    const real = (p: string): string => {
        try {
            return realpathSync(p);
        } catch {
            return resolve(p);
        }
    };
    return real(a) === real(b);
}

/** A temporary file beside `target` that becomes `target` on commit() and disappears on discard(). */
class AtomicOutput {
    readonly temp: string;
    private readonly stream: WriteStream;
    private failure: NodeJS.ErrnoException | undefined;
    constructor(readonly target: string) {
        this.temp = join(dirname(target), `.${basename(target)}.${process.pid}.importing`);
        this.stream = createWriteStream(this.temp, { flags: "wx" });
        this.stream.on("error", (error) => (this.failure = error));
    }

    async write(line: string): Promise<void> {
        if (this.failure) throw new ImportWriteError(this.target, this.failure);
        // once() rejects if "error" comes first, and removes its listeners either way.
        if (!this.stream.write(line)) {
            await once(this.stream, "drain").catch((error: NodeJS.ErrnoException) => {
                throw new ImportWriteError(this.target, error);
            });
        }
    }

    async commit(): Promise<void> {
        this.stream.end();
        if (!this.stream.closed) await once(this.stream, "close").catch(() => undefined);
        if (this.failure) throw new ImportWriteError(this.target, this.failure);
        await rename(this.temp, this.target);
    }

    async discard(): Promise<void> {
        this.stream.destroy();
        if (!this.stream.closed) await once(this.stream, "close").catch(() => undefined);
        await rm(this.temp, { force: true });
    }
}

export async function importDataset(options: ImportOptions): Promise<ImportResult> {
    const { input, out, heldOut } = options;
    const previewing = options.preview !== undefined;
    if (!previewing && out === undefined) throw new ImportRequestError("--out is required (or --preview N to look without writing)");
    for (const target of [out, heldOut]) {
        if (target !== undefined && samePath(target, input)) throw new ImportRequestError(`${target} is the input file; write the output somewhere else`);
    }
    if (out !== undefined && heldOut !== undefined && samePath(out, heldOut)) throw new ImportRequestError("--out and --held-out are the same file");
    if ((options.split !== undefined) !== (heldOut !== undefined)) throw new ImportRequestError("--split and --held-out go together: the fraction held out and where to write it");
    if (!previewing && options.existing === "refuse") {
        const existing = [out, heldOut].filter((target): target is string => target !== undefined && existsSync(target));
        if (existing.length > 0) throw new ImportTargetExistsError(existing);
    }
    const cancelled = (): void => {
        if (options.signal?.aborted) throw new ImportCancelledError();
    };
    cancelled();

    const source = await openRowSource(input, options.format);
    const outputs: AtomicOutput[] = [];
    try {
        const { columns, rows: sample } = await source.sample(SAMPLE_ROWS);
        const resolved = resolveMapping(options, columns, sample);
        const { mapping } = resolved;
        options.onMapping?.(describeMapping(mapping), { ...resolved, format: source.format, columns });
        const converter = rowConverter(mapping, columns);
        const result: ImportResult = { rows: 0, written: 0, heldOut: 0, preview: [] };
        const main = previewing ? undefined : new AtomicOutput(out!);
        if (main) outputs.push(main);
        const held = previewing || heldOut === undefined ? undefined : new AtomicOutput(heldOut);
        if (held) outputs.push(held);
        const holdOut = options.split !== undefined ? seededSplit(options.seed ?? 0, options.split) : () => false;
        const progress = (): void => options.onProgress?.({ rows: result.rows, bytes: source.counter.bytes, totalBytes: source.totalBytes, ...(source.totalRows !== undefined ? { totalRows: source.totalRows } : {}) });
        const rows = source.rows(converter.columns);
        try {
            for await (const row of rows) {
                cancelled();
                let messages: ChatMessage[];
                try {
                    messages = converter.convert(row.values);
                } catch (error) {
                    if (!(error instanceof CellError)) throw error;
                    throw new ImportRowError({ file: input, row: row.row, ...(row.line !== undefined ? { line: row.line } : {}), column: error.column }, error.problem);
                }
                result.rows++;
                if (previewing) {
                    result.preview.push({ messages });
                    if (result.rows >= options.preview!) break;
                    continue;
                }
                const line = `${exampleLine(messages)}\n`;
                if (held && holdOut()) {
                    await held.write(line);
                    result.heldOut++;
                } else {
                    await main!.write(line);
                    result.written++;
                }
                if (result.rows % PROGRESS_EVERY_ROWS === 0) progress();
            }
        } finally {
            await rows.return(undefined);
        }
        cancelled();
        if (!previewing && result.rows === 0) throw new ImportRequestError(`${input} has no rows`);
        progress();
        for (const output of outputs) await output.commit();
        return result;
    } catch (error) {
        await Promise.all(outputs.map((o) => o.discard()));
        throw error;
    } finally {
        await source.close();
    }
}
