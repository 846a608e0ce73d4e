// From a file's columns to chat messages. Two kinds of mapping:
//   - templates: one template per message (system, user, assistant) over the row's columns (SciQ, PubMedQA, Alpaca,
//     Dolly, or the user's own);
//   - conversation: one column already holds the turns (ShareGPT's `conversations: [{from, value}]`, OpenAI chat's
//     `messages: [{role, content}]`).
// The presets are detected from the columns and, for conversations, from the shape of the first rows' values.
import { ImportRequestError } from "./errors";
import { IMPORT_PRESET_LABELS } from "../protocol/sidecar";
import type { ImportRow } from "./types";

export const PRESET_NAMES = ["openai", "sharegpt", "pubmedqa", "sciq", "dolly", "alpaca"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export type ImportMapping =
    | { kind: "templates"; preset?: PresetName; system?: string; user: string; assistant: string }
    | { kind: "conversation"; preset: "openai" | "sharegpt"; column: string; system?: string };

interface TemplatePreset {
    label: string;
    /** Columns the preset needs; all must be present. */
    requires: readonly string[];
    user: (sample: readonly ImportRow[]) => string;
    assistant: string;
}

/** The first non-empty value of a column among the sampled rows. */
function firstValue(column: string, sample: readonly ImportRow[]): unknown {
    for (const row of sample) {
        const value = row.values[column];
        if (value !== null && value !== undefined && value !== "") return value;
    }
    return undefined;
}

const TEMPLATE_PRESETS: Readonly<Record<Exclude<PresetName, "openai" | "sharegpt">, TemplatePreset>> = {
    // PubMedQA on Hugging Face keeps its abstract in a struct (context.contexts: a list of passages); its JSON exports
    // flatten it to text. The answer starts with the yes/no/maybe decision, which the evaluation's yes/no/maybe
    // accuracy reads as the first word.
    pubmedqa: {
        label: "PubMedQA",
        requires: ["question", "context", "long_answer", "final_decision"],
        user: (sample) => {
            const context = firstValue("context", sample);
            const structured = typeof context === "object" && context !== null && !Array.isArray(context) && "contexts" in context;
            return `Question: {question}\\nContext: {${structured ? "context.contexts" : "context"}}`;
        },
        assistant: "{final_decision}\\n\\n{long_answer}"
    },
    sciq: { label: "SciQ", requires: ["question", "correct_answer", "support"], user: () => "Question: {question}\\nContext: {support}", assistant: "{correct_answer}" },
    dolly: { label: "Dolly", requires: ["instruction", "context", "response"], user: () => "{instruction}\\n\\n{context}", assistant: "{response}" },
    alpaca: { label: "Alpaca", requires: ["instruction", "output"], user: () => "{instruction}\\n\\n{input}", assistant: "{output}" }
};

/** Declared with the import messages (protocol/sidecar.ts), so the editor names presets the same way. */
export const PRESET_LABELS: Readonly<Record<PresetName, string>> = IMPORT_PRESET_LABELS;

/** Which conversation shape a value has: a list of {role, content} (OpenAI) or {from, value} (ShareGPT). */
export function conversationShape(value: unknown): "openai" | "sharegpt" | undefined {
    let list = value;
    if (typeof value === "string" && value.trimStart().startsWith("[")) {
        try {
            list = JSON.parse(value);
        } catch {
            return undefined;
        }
    }
    if (!Array.isArray(list) || list.length === 0) return undefined;
    const first = list[0] as unknown;
    if (typeof first !== "object" || first === null) return undefined;
    if ("role" in first && "content" in first) return "openai";
    if ("from" in first && "value" in first) return "sharegpt";
    return undefined;
}

/** Conversation columns, preferred names first: a column is one when its first value has a conversation's shape. */
function conversationColumns(columns: readonly string[], sample: readonly ImportRow[]): Array<{ column: string; shape: "openai" | "sharegpt" }> {
    const preferred = ["messages", "conversations", "conversation"];
    const ordered = [...columns].sort((a, b) => (preferred.includes(b) ? 1 : 0) - (preferred.includes(a) ? 1 : 0));
    const found: Array<{ column: string; shape: "openai" | "sharegpt" }> = [];
    for (const column of ordered) {
        const shape = conversationShape(firstValue(column, sample));
        if (shape) found.push({ column, shape });
    }
    return found;
}

/** The preset's mapping for these columns, or undefined when they do not fit it. */
export function presetMapping(name: PresetName, columns: readonly string[], sample: readonly ImportRow[]): ImportMapping | undefined {
    if (name === "openai" || name === "sharegpt") {
        const found = conversationColumns(columns, sample).find((c) => c.shape === name);
        return found ? { kind: "conversation", preset: name, column: found.column } : undefined;
    }
    const preset = TEMPLATE_PRESETS[name];
    if (!preset.requires.every((c) => columns.includes(c))) return undefined;
    // Alpaca's input is optional: a file without the column gets the instruction alone.
    const user = name === "alpaca" && !columns.includes("input") ? "{instruction}" : preset.user(sample);
    return { kind: "templates", preset: name, user, assistant: preset.assistant };
}

/** Every preset these columns fit, the most specific first (PubMedQA before SciQ, Dolly before Alpaca). */
export function detectPresets(columns: readonly string[], sample: readonly ImportRow[]): PresetName[] {
    return PRESET_NAMES.filter((name) => presetMapping(name, columns, sample) !== undefined);
}

/** What the user asked for: a preset (or "auto"), and optionally a system prompt and their own templates. */
export interface MappingRequest {
    mapping?: "auto" | PresetName;
    system?: string;
    user?: string;
    assistant?: string;
}

export interface ResolvedMapping {
    mapping: ImportMapping;
    /** The preset detection picked (with mapping "auto"), if any. */
    detected: PresetName | undefined;
    /** Every preset the columns fit. */
    candidates: PresetName[];
}

export function resolveMapping(request: MappingRequest, columns: readonly string[], sample: readonly ImportRow[]): ResolvedMapping {
    const candidates = detectPresets(columns, sample);
    const wanted = request.mapping ?? "auto";
    const detected = wanted === "auto" ? candidates[0] : undefined;
    const listed = columns.map((c) => `"${c}"`).join(", ");
    let base: ImportMapping | undefined;
    if (wanted !== "auto") {
        base = presetMapping(wanted, columns, sample);
        if (!base) {
            const needs = wanted === "openai" ? "a column of [{role, content}] lists" : wanted === "sharegpt" ? "a column of [{from, value}] lists" : `the columns ${TEMPLATE_PRESETS[wanted].requires.map((c) => `"${c}"`).join(", ")}`;
            throw new ImportRequestError(`the ${PRESET_LABELS[wanted]} mapping needs ${needs}; the file has ${listed}`);
        }
    } else if (detected) {
        base = presetMapping(detected, columns, sample);
    }
    const custom = request.user !== undefined || request.assistant !== undefined;
    if (base?.kind === "conversation" && custom) {
        throw new ImportRequestError(`user and assistant templates apply to column mappings; "${base.column}" already holds whole conversations (${PRESET_LABELS[base.preset]})`);
    }
    if (!base) {
        if (request.user === undefined || request.assistant === undefined) {
            throw new ImportRequestError(`no mapping fits the columns ${listed} (known: SciQ, PubMedQA, Alpaca, Dolly, ShareGPT, OpenAI chat); give a user and an assistant template, e.g. user "{${columns[0] ?? "question"}}" and assistant "{${columns[1] ?? "answer"}}"`);
        }
        base = { kind: "templates", user: request.user, assistant: request.assistant };
    } else if (base.kind === "templates" && custom) {
        base = { ...base, ...(request.user !== undefined ? { user: request.user } : {}), ...(request.assistant !== undefined ? { assistant: request.assistant } : {}) };
    }
    const mapping = request.system !== undefined && request.system.trim() !== "" ? { ...base, system: request.system } : base;
    return { mapping, detected, candidates };
}

/** One line per message, for the CLI and the editor: "user ← Question: {question}⏎Context: {support}". */
export function describeMapping(mapping: ImportMapping): string[] {
    const name = mapping.kind === "conversation" || mapping.preset ? PRESET_LABELS[mapping.preset!] : "custom templates";
    const lines = [`mapping: ${name}`];
    if (mapping.system !== undefined) lines.push(`system ← ${mapping.system}`);
    if (mapping.kind === "conversation") lines.push(`messages ← column "${mapping.column}"`);
    else lines.push(`user ← ${mapping.user}`, `assistant ← ${mapping.assistant}`);
    return lines;
}
