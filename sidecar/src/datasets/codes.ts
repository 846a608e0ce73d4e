// Every diagnostic the dataset tooling can emit, with its stable code. docs/diagnostics.md documents
// each one; a unit test checks that the two stay in step and that every code has a fixture.
import type { Severity } from "./types";

export interface DiagnosticCodeInfo {
    severity: Severity;
    /** Short kebab-case name, shown in docs and handy for grepping. */
    title: string;
    description: string;
}

export const DIAGNOSTIC_CODES = {
    // Line and file level: the bytes and the JSON itself.
    LS001: { severity: "error", title: "invalid-json", description: "The line is not valid JSON. The range points at the first offending character." },
    LS002: { severity: "error", title: "not-an-object", description: "The line is valid JSON but not an object; every example must be a JSON object." },
    LS003: { severity: "error", title: "nesting-too-deep", description: "A line with a syntax or schema problem nests arrays or objects deeper than 64 levels, too deep to point at its problems safely." },
    LS004: { severity: "error", title: "invalid-utf8", description: "The file's bytes are not valid UTF-8 on this line; the range covers the replaced characters." },
    LS005: { severity: "warning", title: "replacement-character", description: "The line contains U+FFFD, which usually means the file was decoded with the wrong encoding." },
    LS006: { severity: "error", title: "binary-file", description: "The file contains NUL characters and looks binary, so its lines are not validated." },
    LS007: { severity: "warning", title: "byte-order-mark", description: "The file starts with a byte-order mark, which many JSONL readers reject." },
    LS008: { severity: "warning", title: "blank-line", description: "A blank line between examples; many loaders fail or count it as an empty example." },
    LS009: { severity: "warning", title: "long-line", description: "The line is longer than the configured character limit (maxLineLength)." },
    LS010: { severity: "info", title: "line-whitespace", description: "The line has whitespace before or after its JSON value." },
    LS011: { severity: "warning", title: "empty-file", description: "The file has no examples." },
    // Schema: the JSON Schema of the line's format (schemas/*.schema.json), checked with ajv.
    LS101: { severity: "error", title: "missing-property", description: "A property the format requires is missing." },
    LS102: { severity: "error", title: "wrong-type", description: "A value has the wrong JSON type (for example a number where a string is required)." },
    LS103: { severity: "error", title: "invalid-value", description: "A value is not one of the allowed values (for example a role other than system, user or assistant)." },
    LS104: { severity: "error", title: "schema-violation", description: "Any other JSON Schema violation (for example an empty messages array)." },
    LS105: { severity: "error", title: "unknown-format", description: "The object's keys match none of the dataset formats (chat, instruction, prompt-completion, text, qa)." },
    // Content: checks a schema cannot express.
    LS201: { severity: "error", title: "no-target", description: "The example has no assistant, output, completion, answer or text content, so there is nothing to train on." },
    LS202: { severity: "error", title: "system-not-first", description: "A system message appears after the first message." },
    LS203: { severity: "warning", title: "empty-content", description: "A content field is empty or whitespace only." },
    LS204: { severity: "info", title: "content-whitespace", description: "A content field starts or ends with whitespace." },
    LS205: { severity: "warning", title: "duplicate-example", description: "The example repeats an earlier one (compared after normalizing format and whitespace); the message names the first line." },
    LS206: { severity: "warning", title: "mixed-formats", description: "The line's format differs from the format of most lines in the file." },
    // Need the base model's tokenizer (tokenChecks.ts): the language server and `lora-studio validate --model` emit them.
    LS301: { severity: "warning", title: "too-many-tokens", description: "The example has more tokens than the configured max sequence length and will be truncated." },
    LS302: { severity: "error", title: "no-trainable-tokens", description: "Rendered with the base model's chat template and cut to the max sequence length by the configured truncation, the example keeps no trained token." },
    // File summary.
    LS900: { severity: "info", title: "too-many-diagnostics", description: "The per-file cap on diagnostics (maxDiagnostics) was reached; one summary diagnostic counts the rest." }
} as const satisfies Record<string, DiagnosticCodeInfo>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;
