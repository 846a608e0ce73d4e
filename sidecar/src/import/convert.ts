// One row → one chat example ({"messages": [...]}) under a resolved mapping. Pure: the caller adds the file and row
// to a CellError (ImportRowError). Every example it returns passes the chat validator: system first, and an
// assistant message with text.
import { CellError } from "./errors";
import type { ImportMapping } from "./mapping";
import { compileTemplate, renderTemplate, type CompiledTemplate } from "./template";
import type { ChatMessage } from "./types";
import { hashString, Sfc32 } from "../tinyModel/prng";

/** ShareGPT's `from` values and the chat role each one is. */
const SHAREGPT_ROLES: Readonly<Record<string, ChatMessage["role"]>> = {
    system: "system", human: "user", user: "user", gpt: "assistant", assistant: "assistant", chatgpt: "assistant", bard: "assistant", model: "assistant", bing: "assistant"
};

export interface RowConverter {
    /** The top-level columns the mapping reads (Parquet reads only these). */
    columns: readonly string[];
    convert(values: Readonly<Record<string, unknown>>): ChatMessage[];
}

function conversationTurns(value: unknown, column: string): unknown[] {
    let list = value;
    if (typeof value === "string") {
        try {
            list = JSON.parse(value);
        } catch (error) {
            throw new CellError(column, `is not a JSON list of turns: ${(error as Error).message}`);
        }
    }
    if (!Array.isArray(list)) throw new CellError(column, `holds ${list === null || list === undefined ? "nothing" : `a ${typeof list}`}, not a list of turns`);
    return list;
}

function turnMessage(turn: unknown, preset: "openai" | "sharegpt", where: string): ChatMessage {
    if (typeof turn !== "object" || turn === null) throw new CellError(where, "is not an object");
    const t = turn as Record<string, unknown>;
    const [roleKey, textKey] = preset === "openai" ? ["role", "content"] : ["from", "value"];
    const raw = t[roleKey];
    const role = typeof raw === "string" ? (preset === "openai" ? (["system", "user", "assistant"].includes(raw) ? raw as ChatMessage["role"] : undefined) : SHAREGPT_ROLES[raw.toLowerCase()]) : undefined;
    if (role === undefined) throw new CellError(`${where}.${roleKey}`, `unknown role ${JSON.stringify(raw)} (expected ${preset === "openai" ? "system, user or assistant" : Object.keys(SHAREGPT_ROLES).join(", ")})`);
    const content = t[textKey];
    if (typeof content !== "string") throw new CellError(`${where}.${textKey}`, `holds ${content === null || content === undefined ? "nothing" : `a ${typeof content}`}, not text`);
    return { role, content };
}

/** Checks what the chat validator checks (LS201, LS202), naming the column that produced the problem. */
function checkExample(messages: ChatMessage[], assistantColumn: string): ChatMessage[] {
    const misplaced = messages.findIndex((m, i) => m.role === "system" && i > 0);
    if (misplaced !== -1) throw new CellError(`${assistantColumn}[${misplaced}]`, "a system message after the first message");
    if (!messages.some((m) => m.role === "assistant" && m.content.trim() !== "")) throw new CellError(assistantColumn, "the assistant message is empty: nothing to train on");
    return messages;
}

/** Compiles the mapping's templates against the file's columns (an unknown column is refused here, before any row). */
export function rowConverter(mapping: ImportMapping, columns: readonly string[]): RowConverter {
    const system = mapping.system;
    if (mapping.kind === "conversation") {
        const { column, preset } = mapping;
        return {
            columns: [column],
            convert(values) {
                const turns = conversationTurns(values[column], column).map((turn, i) => turnMessage(turn, preset, `${column}[${i}]`));
                const messages = system !== undefined && turns[0]?.role !== "system" ? [{ role: "system" as const, content: system }, ...turns] : turns;
                return checkExample(messages, column);
            }
        };
    }
    const user = compileTemplate("user", mapping.user, columns);
    const assistant = compileTemplate("assistant", mapping.assistant, columns);
    const systemTemplate: CompiledTemplate | undefined = system !== undefined ? compileTemplate("system", system, columns) : undefined;
    const assistantColumn = assistant.columns.join(", ") || "assistant";
    return {
        columns: [...new Set([...(systemTemplate?.columns ?? []), ...user.columns, ...assistant.columns])],
        convert(values) {
            const messages: ChatMessage[] = [];
            const systemText = systemTemplate ? renderTemplate(systemTemplate, values) : "";
            if (systemText !== "") messages.push({ role: "system", content: systemText });
            messages.push({ role: "user", content: renderTemplate(user, values) }, { role: "assistant", content: renderTemplate(assistant, values) });
            return checkExample(messages, assistantColumn);
        }
    };
}

/** A seeded split: the same seed and rows give the same held-out rows (the shuffle's generator, one draw per row). */
export function seededSplit(seed: number, fraction: number): () => boolean {
    const rng = new Sfc32(seed >>> 0, hashString("import-split"));
    return () => rng.nextU32() / 4294967296 < fraction;
}
