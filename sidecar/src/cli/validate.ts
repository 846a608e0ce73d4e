// `lora-studio validate <files…> [--format auto|chat|instruction|prompt-completion|text|qa] [--json]`
// The same pure validator the language server runs; this file only reads bytes and prints.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { DATASET_FORMATS, decodeDatasetBytes, validateJsonl, type DatasetDiagnostic, type FormatSetting } from "../datasets/index";
import { UsageError, type CliCommand } from "./types";

const FORMATS: readonly FormatSetting[] = ["auto", ...DATASET_FORMATS];

const usage = `Usage: lora-studio validate <files…> [options]

Checks JSONL training data: JSON syntax, the schema of each line format, and content problems
(no assistant text, misplaced system message, duplicates, mixed formats…). Every diagnostic has a
code documented in docs/diagnostics.md. Exits 1 if any diagnostic is an error, 0 otherwise.

Options:
  --format F             ${FORMATS.join("|")} (default auto: detected per file)
  --json                 print {"files":[{"path","diagnostics":[{"line","column","endLine","endColumn","severity","code","message"}]}]}
                         (positions 1-based, end exclusive)
  --max-diagnostics N    cap per file (default 1000); one summary diagnostic counts the rest`;

/** The --json shape: 1-based lines and columns, as compilers and editors print them. */
export interface CliDiagnostic {
    line: number;
    column: number;
    endLine: number;
    endColumn: number;
    severity: DatasetDiagnostic["severity"];
    code: string;
    message: string;
}

export interface CliFileReport {
    path: string;
    diagnostics: CliDiagnostic[];
}

function toCli(d: DatasetDiagnostic): CliDiagnostic {
    return {
        line: d.range.start.line + 1,
        column: d.range.start.character + 1,
        endLine: d.range.end.line + 1,
        endColumn: d.range.end.character + 1,
        severity: d.severity,
        code: d.code,
        message: d.message
    };
}

function parse(args: string[]): { files: string[]; format: FormatSetting; json: boolean; maxDiagnostics: number | undefined } {
    let parsed;
    try {
        parsed = parseArgs({
            args,
            allowPositionals: true,
            options: { format: { type: "string" }, json: { type: "boolean" }, "max-diagnostics": { type: "string" } }
        });
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    const format = (values.format ?? "auto") as FormatSetting;
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got '${values.format}'`);
    let maxDiagnostics: number | undefined;
    if (values["max-diagnostics"] !== undefined) {
        maxDiagnostics = Number(values["max-diagnostics"]);
        if (!Number.isInteger(maxDiagnostics) || maxDiagnostics < 1) throw new UsageError(`--max-diagnostics must be a positive integer, got '${values["max-diagnostics"]}'`);
    }
    if (positionals.length === 0) throw new UsageError("no files given");
    return { files: positionals, format, json: values.json ?? false, maxDiagnostics };
}

export const validateCommand: CliCommand = {
    summary: "check JSONL training data files and print diagnostics",
    usage,
    async run(args) {
        const { files, format, json, maxDiagnostics } = parse(args);
        const reports: CliFileReport[] = [];
        let errors = 0;
        let warnings = 0;
        let unreadable = 0;
        for (const path of files) {
            let bytes: Uint8Array;
            try {
                bytes = await readFile(path);
            } catch (err) {
                // An unreadable file is reported and fails the run, but the other files are still checked.
                process.stderr.write(`lora-studio validate: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
                unreadable++;
                continue;
            }
            const { text, invalidUtf8 } = decodeDatasetBytes(bytes);
            const result = validateJsonl(text, { format, decodedFromInvalidUtf8: invalidUtf8, ...(maxDiagnostics ? { maxDiagnostics } : {}) });
            const diagnostics = result.diagnostics.map(toCli);
            for (const d of diagnostics) d.severity === "error" ? errors++ : d.severity === "warning" ? warnings++ : 0;
            reports.push({ path, diagnostics });
        }
        if (json) {
            process.stdout.write(`${JSON.stringify({ files: reports })}\n`);
        } else {
            const out: string[] = [];
            for (const r of reports) for (const d of r.diagnostics) out.push(`${r.path}:${d.line}:${d.column}: ${d.severity}: ${d.message} [${d.code}]`);
            if (out.length) process.stdout.write(`${out.join("\n")}\n`);
            process.stderr.write(`${reports.length} file(s) checked: ${errors} error(s), ${warnings} warning(s)${unreadable ? `, ${unreadable} unreadable` : ""}\n`);
        }
        return errors > 0 || unreadable > 0 ? 1 : 0;
    }
};
