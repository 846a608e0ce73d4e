// `lora-studio import <file> --out <file.jsonl> [--mapping P|JSON] [--system T] [--user T] [--assistant T]
// [--split X --held-out F] [--seed N] [--preview N]`
// Reads CSV, TSV, Parquet, JSON arrays and JSON Lines and writes chat JSONL; the work is in import/run.ts.
import { importDataset } from "../import/run";
import { PRESET_NAMES, type MappingRequest, type PresetName } from "../import/mapping";
import { IMPORT_PARAMS } from "../params/commands";
import { optionsUsage, parseCliArgs } from "../params/cliArgs";
import { UsageError, type CliCommand } from "./types";

const usage = `Usage: lora-studio import <file> --out <file.jsonl> [options]

Converts a CSV, TSV, Parquet (uncompressed, Snappy, Zstd, Gzip), JSON array or JSON Lines file into chat JSONL
({"messages":[…]}) that \`lora-studio validate\` accepts. Columns are mapped to messages by a preset detected from
them (SciQ, PubMedQA, Alpaca, Dolly, ShareGPT, OpenAI chat) or by templates: {column} inserts a column, {a.b} a
field of a struct column, \\n a line break; a line whose placeholders are all empty is left out.
The file is streamed (progress on stderr); the output appears only when every row has converted.

Options:
${optionsUsage(IMPORT_PARAMS)}`;

function mappingRequest(text: string | undefined): MappingRequest {
    if (text === undefined || text === "auto") return {};
    if (text.trimStart().startsWith("{")) {
        let parsed: unknown;
        try {
            parsed = JSON.parse(text);
        } catch (error) {
            throw new UsageError(`--mapping is not valid JSON: ${(error as Error).message}`);
        }
        const request: MappingRequest = {};
        for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
            if (typeof value !== "string") throw new UsageError(`--mapping: "${key}" must be a string`);
            if (key === "preset") request.mapping = presetName(value);
            else if (key === "system" || key === "user" || key === "assistant") request[key] = value;
            else throw new UsageError(`--mapping: unknown key "${key}" (known: preset, system, user, assistant)`);
        }
        return request;
    }
    return { mapping: presetName(text) };
}

function presetName(text: string): PresetName | "auto" {
    if (text === "auto" || (PRESET_NAMES as readonly string[]).includes(text)) return text as PresetName | "auto";
    throw new UsageError(`--mapping must be auto, ${PRESET_NAMES.join(", ")} or a JSON object, got ${JSON.stringify(text)}`);
}

export const importCommand: CliCommand = {
    summary: "convert CSV, TSV, Parquet, JSON or JSONL rows into chat JSONL",
    usage,
    async run(args) {
        const { values, positionals } = parseCliArgs(IMPORT_PARAMS, args, { positionals: true });
        if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "no input file given" : "one input file at a time");
        if (values.out === undefined && values.preview === undefined) throw new UsageError("--out is required (or --preview N)");
        const request = mappingRequest(values.mapping);
        for (const key of ["system", "user", "assistant"] as const) if (values[key] !== undefined) request[key] = values[key];
        const started = Date.now();
        const result = await importDataset({
            ...request,
            input: positionals[0]!,
            ...(values.format !== undefined ? { format: values.format } : {}),
            ...(values.preview === undefined && values.out !== undefined ? { out: values.out } : {}),
            ...(values.preview === undefined && values.heldOut !== undefined ? { heldOut: values.heldOut } : {}),
            ...(values.split !== undefined ? { split: values.split } : {}),
            ...(values.seed !== undefined ? { seed: values.seed } : {}),
            ...(values.preview !== undefined ? { preview: values.preview } : {}),
            onMapping: (lines) => process.stderr.write(`${lines.join("\n")}\n`),
            onProgress: (p) => {
                const of = p.totalRows !== undefined ? ` of ${p.totalRows}` : "";
                process.stderr.write(`${p.rows}${of} rows, ${(Math.min(p.bytes, p.totalBytes) / 1e6).toFixed(1)} of ${(p.totalBytes / 1e6).toFixed(1)} MB read\n`);
            }
        });
        if (values.preview !== undefined) {
            for (const example of result.preview) process.stdout.write(`${JSON.stringify(example)}\n`);
            return 0;
        }
        const seconds = (Date.now() - started) / 1000;
        const held = values.heldOut !== undefined ? `, ${result.heldOut} to ${values.heldOut}` : "";
        process.stderr.write(`imported ${result.rows} rows in ${seconds.toFixed(1)} s: ${result.written} to ${values.out}${held}\n`);
        return 0;
    }
};
