// `lora-studio validate <files…> [--format auto|chat|instruction|prompt-completion|text|qa] [--json] [--model M.gguf
// [--sequence-length N] [--truncation P]]`
// The same pure validator and token checks the language server runs; this file only reads bytes and prints.
import { decodeDatasetBytes, validateJsonl, type DatasetDiagnostic, type FormatSetting } from "../datasets/index";
import { DatasetReadError, MAX_DATASET_BYTES, MAX_DATASET_LINE_BYTES, readDatasetFile } from "../datasets/readDatasetFile";
import { VALIDATE_PARAMS } from "../params/commands";
import { optionsUsage, parseCliArgs } from "../params/cliArgs";
import { UsageError, type CliCommand } from "./types";
import { DEFAULT_SEQUENCE_LENGTH, DEFAULT_TRUNCATION, ModelTokenChecks } from "./validateTokens";

const usage = `Usage: lora-studio validate <files…> [options]

Checks JSONL training data: JSON syntax, the schema of each line format, and content problems
(no assistant text, misplaced system message, duplicates, mixed formats…). Every diagnostic has a
code documented in docs/diagnostics.md. Exits 1 if any diagnostic is an error, 0 otherwise.
With --model, the model's tokenizer also finds examples longer than the sequence length (LS301) and those the
truncation leaves with nothing to train on (LS302), as the editor does with loraStudio.baseModel set.
Reads at most ${MAX_DATASET_BYTES / (1 << 20)} MiB per file and ${MAX_DATASET_LINE_BYTES / (1 << 20)} MiB per line, then reports the file as unreadable.

Options:
${optionsUsage(VALIDATE_PARAMS)}`;

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

function parse(args: string[]) {
    const { values, positionals } = parseCliArgs(VALIDATE_PARAMS, args, { positionals: true });
    if (positionals.length === 0) throw new UsageError("no files given");
    if (values.model === undefined && (values.sequenceLength !== undefined || values.truncation !== undefined)) {
        throw new UsageError("--sequence-length and --truncation need --model (the tokenizer that counts the tokens)");
    }
    const format: FormatSetting = values.format ?? "auto";
    return {
        files: positionals, format, json: values.json ?? false, maxDiagnostics: values.maxDiagnostics,
        tokens: values.model === undefined ? undefined : {
            model: values.model,
            options: { sequenceLength: values.sequenceLength ?? DEFAULT_SEQUENCE_LENGTH, truncation: values.truncation ?? DEFAULT_TRUNCATION, format, cap: values.maxDiagnostics ?? 1000 }
        }
    };
}

export const validateCommand: CliCommand = {
    summary: "check JSONL training data files and print diagnostics",
    usage,
    async run(args) {
        const { files, format, json, maxDiagnostics, tokens } = parse(args);
        const tokenChecks = tokens ? await ModelTokenChecks.load(tokens.model) : undefined;
        const reports: CliFileReport[] = [];
        let errors = 0;
        let warnings = 0;
        let unreadable = 0;
        for (const path of files) {
            let bytes: Uint8Array;
            try {
                bytes = readDatasetFile(path);
            } catch (err) {
                // An unreadable (or unbounded: /dev/zero) file is reported and fails the run; the other files are still checked.
                if (!(err instanceof DatasetReadError)) throw err;
                process.stderr.write(`lora-studio validate: ${err.message}\n`);
                unreadable++;
                continue;
            }
            const { text, invalidUtf8 } = decodeDatasetBytes(bytes);
            const result = validateJsonl(text, { format, decodedFromInvalidUtf8: invalidUtf8, ...(maxDiagnostics ? { maxDiagnostics } : {}) });
            // With --model, the token checks' diagnostics join the validator's in line order, as the editor lists them.
            const found = tokenChecks && tokens
                ? [...result.diagnostics, ...tokenChecks.diagnostics(text, tokens.options)].sort((x, y) => x.range.start.line - y.range.start.line || x.range.start.character - y.range.start.character)
                : result.diagnostics;
            const diagnostics = found.map(toCli);
            for (const d of diagnostics) d.severity === "error" ? errors++ : d.severity === "warning" ? warnings++ : 0;
            reports.push({ path, diagnostics });
        }
        await tokenChecks?.dispose();
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
