// The five line formats: how to recognise one from an object's keys, how custom column names map onto
// the canonical fields, and how every format becomes the one shape the pipeline trains on (chat messages).
import type { ChatMessage, ColumnMapping, DatasetFormat, NormalizedExample } from "./types";

export const DATASET_FORMATS: readonly DatasetFormat[] = ["chat", "instruction", "prompt-completion", "text", "qa"];

/** Canonical field names per format, in the order conversions read them. */
export const CANONICAL_FIELDS: Record<DatasetFormat, readonly string[]> = {
    chat: ["messages"],
    instruction: ["instruction", "input", "output"],
    "prompt-completion": ["prompt", "completion"],
    text: ["text"],
    qa: ["question", "answer", "context"]
};

/** Fields that must be present for a mapping to claim a line during detection. */
const REQUIRED_FIELDS: Record<DatasetFormat, readonly string[]> = {
    chat: ["messages"],
    instruction: ["instruction", "output"],
    "prompt-completion": ["prompt", "completion"],
    text: ["text"],
    qa: ["question", "answer"]
};

export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A line's JSON object, or undefined when it does not parse or is not an object (slow paths: fixes, duplicates). */
export function parseObjectLine(text: string): JsonObject | undefined {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        return undefined;
    }
    return isPlainObject(value) ? value : undefined;
}

export function isDatasetFormat(value: unknown): value is DatasetFormat {
    return typeof value === "string" && (DATASET_FORMATS as readonly string[]).includes(value);
}

/** The user's key(s) for a canonical field under a mapping; the canonical name itself when unmapped. */
export function sourceKeys(field: string, mapping: ColumnMapping | undefined): string[] {
    const mapped = mapping?.fields[field];
    if (mapped === undefined) return [field];
    return Array.isArray(mapped) ? mapped : [mapped];
}

/**
 * Recognises a line's format from its keys. A column mapping wins when its required keys are present, so a
 * SciQ line (`question`/`correct_answer`) is qa rather than unknown. Returns undefined when nothing matches.
 */
export function detectLineFormat(value: JsonObject, mapping?: ColumnMapping): DatasetFormat | undefined {
    if (mapping && REQUIRED_FIELDS[mapping.format].every((f) => sourceKeys(f, mapping).some((k) => k in value))) return mapping.format;
    if ("messages" in value) return "chat";
    if ("instruction" in value || ("output" in value && "input" in value)) return "instruction";
    if ("prompt" in value || "completion" in value) return "prompt-completion";
    if ("question" in value || "answer" in value) return "qa";
    if ("text" in value) return "text";
    return undefined;
}

/**
 * The object as its format's schema expects it: custom column names renamed to canonical ones, several mapped
 * columns joined. Returns the value itself when no mapping applies (the hot path allocates nothing).
 */
export function canonicalView(value: JsonObject, format: DatasetFormat, mapping: ColumnMapping | undefined): JsonObject {
    if (!mapping || mapping.format !== format) return value;
    const view: JsonObject = {};
    for (const field of CANONICAL_FIELDS[format]) {
        const keys = sourceKeys(field, mapping).filter((k) => k in value);
        if (keys.length === 0) continue;
        const parts = keys.map((k) => value[k]);
        // A non-string part is passed through unjoined so the schema reports its type on the user's key.
        const bad = parts.find((p) => typeof p !== "string");
        view[field] = bad !== undefined || parts.length === 1 ? (bad ?? parts[0]) : parts.join("\n\n");
    }
    return view;
}

/** Maps a canonical JSON path back onto the user's keys, so ranges land on what the user wrote. */
export function sourcePath(path: (string | number)[], format: DatasetFormat, mapping: ColumnMapping | undefined): (string | number)[] {
    if (!mapping || mapping.format !== format || path.length === 0 || typeof path[0] !== "string") return path;
    return [sourceKeys(path[0], mapping)[0]!, ...path.slice(1)];
}

function str(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

/**
 * Every format as chat messages (the pipeline's single input shape). Expects a canonical view; returns undefined
 * when required fields are missing or mistyped. Text lines become one assistant message marked `raw`.
 */
export function normalizeCanonical(view: JsonObject, format: DatasetFormat): NormalizedExample | undefined {
    switch (format) {
        case "chat": {
            const messages = view["messages"];
            if (!Array.isArray(messages)) return undefined;
            const out: ChatMessage[] = [];
            for (const m of messages) {
                if (!isPlainObject(m)) return undefined;
                const role = m["role"];
                const content = m["content"];
                if ((role !== "system" && role !== "user" && role !== "assistant") || typeof content !== "string") return undefined;
                out.push({ role, content });
            }
            return { messages: out };
        }
        case "instruction": {
            const instruction = str(view["instruction"]);
            const input = view["input"] === undefined ? "" : str(view["input"]);
            const output = str(view["output"]);
            if (instruction === undefined || input === undefined || output === undefined) return undefined;
            const user = input.trim() === "" ? instruction : `${instruction}\n\n${input}`;
            return { messages: [{ role: "user", content: user }, { role: "assistant", content: output }] };
        }
        case "prompt-completion": {
            const prompt = str(view["prompt"]);
            const completion = str(view["completion"]);
            if (prompt === undefined || completion === undefined) return undefined;
            return { messages: [{ role: "user", content: prompt }, { role: "assistant", content: completion }] };
        }
        case "text": {
            const text = str(view["text"]);
            return text === undefined ? undefined : { messages: [{ role: "assistant", content: text }], raw: true };
        }
        case "qa": {
            const question = str(view["question"]);
            const answer = str(view["answer"]);
            const context = view["context"] === undefined ? "" : str(view["context"]);
            if (question === undefined || answer === undefined || context === undefined) return undefined;
            const user = context.trim() === "" ? question : `${context}\n\n${question}`;
            return { messages: [{ role: "user", content: user }, { role: "assistant", content: answer }] };
        }
    }
}

/** A parsed line of any format (custom columns included) as chat messages; undefined when it does not fit. */
export function normalizeExample(value: unknown, format?: DatasetFormat, mapping?: ColumnMapping): NormalizedExample | undefined {
    if (!isPlainObject(value)) return undefined;
    const f = format ?? detectLineFormat(value, mapping);
    if (!f) return undefined;
    return normalizeCanonical(canonicalView(value, f, mapping), f);
}

/**
 * One line rewritten as a chat line (the quick fix "convert to chat"). Only instruction, prompt-completion and
 * qa convert: chat already is chat, and raw text has no user/assistant split. Returns undefined otherwise.
 */
export function convertLineToChat(lineText: string, format?: DatasetFormat | "auto", mapping?: ColumnMapping): string | undefined {
    const value = parseObjectLine(lineText);
    if (!value) return undefined;
    const f = format === undefined || format === "auto" ? detectLineFormat(value, mapping) : format;
    if (f === undefined || f === "chat" || f === "text") return undefined;
    const normalized = normalizeCanonical(canonicalView(value, f, mapping), f);
    return normalized ? JSON.stringify({ messages: normalized.messages }) : undefined;
}
