// The one protocol module for the extension ↔ chat panel webview boundary. Pure types and tiny guards, no
// runtime dependencies: the webview bundle (media/chat) imports it too. Each message is declared once with
// `defineMessage` (a literal `type`, a typed `create`, an `is` guard), so neither side matches bare strings.

import { defineMessage } from "./webviewMessage";

export type { MessageKind } from "./webviewMessage";

/** Which model answers in a column: the base alone, or the base with the adapter. */
export type ChatColumn = "base" | "tuned";

/** "tuned" and "base" answer in one column; "side-by-side" asks both. */
export type ChatMode = "tuned" | "base" | "side-by-side";

export interface ChatSettings {
    /** Base model GGUF path. */
    model: string;
    /** adapter.gguf path; empty for none. */
    adapter: string;
    system: string;
    temperature: number;
    topP: number;
    maxTokens: number;
    mode: ChatMode;
}

export interface ChatAnswer {
    text: string;
    state: "streaming" | "done" | "stopped" | "error";
    /** Set when state is "error". */
    error?: string;
}

export interface ChatExchange {
    id: string;
    question: string;
    answers: Partial<Record<ChatColumn, ChatAnswer>>;
}

/** A finished run the panel offers as model + adapter (newest first; the first is the default). */
export interface RunChoice {
    runId: string;
    label: string;
    model: string;
    adapter: string;
}

/** What the webview keeps with `vscode.setState`; the panel serializer restores the panel from it. */
export interface ChatState {
    settings: ChatSettings;
    exchanges: ChatExchange[];
}

export const DEFAULT_CHAT_SETTINGS: ChatSettings = {
    model: "",
    adapter: "",
    system: "",
    temperature: 0,
    topP: 0.95,
    maxTokens: 256,
    mode: "side-by-side"
};

/** The columns that answer in a mode (a mode that needs an adapter falls back to the base without one). */
export function columnsFor(settings: Pick<ChatSettings, "mode" | "adapter">): ChatColumn[] {
    if (settings.adapter.trim() === "" || settings.mode === "base") return ["base"];
    return settings.mode === "tuned" ? ["tuned"] : ["base", "tuned"];
}

/** Earlier exchanges as one column saw them: only complete answers (a stopped one counts as said). */
export function historyFor(exchanges: readonly ChatExchange[], column: ChatColumn): Array<{ user: string; assistant: string }> {
    const turns: Array<{ user: string; assistant: string }> = [];
    for (const e of exchanges) {
        const a = e.answers[column];
        if (a && (a.state === "done" || a.state === "stopped")) turns.push({ user: e.question, assistant: a.text });
    }
    return turns;
}

// ---- Webview → extension ----

/** Sent by the webview once its script runs; the extension answers with `Choices`. */
export const Ready = defineMessage<Record<string, never>>()("ready");
export interface AskParams {
    /** The exchange; its answers come back under this id. */
    id: string;
    question: string;
    settings: ChatSettings;
    columns: ChatColumn[];
    /** Each column's earlier exchanges (historyFor). */
    history: Partial<Record<ChatColumn, Array<{ user: string; assistant: string }>>>;
}

/** Sent by the webview: answer `question` (exchange `id`) in each column of `columns`, after `history`. */
export const Ask = defineMessage<AskParams>()("ask");
/** Sent by the webview's Stop button: stop every answer of exchange `id`. */
export const Stop = defineMessage<{ id: string }>()("stop");
/** Sent by the webview's Browse buttons: pick a file for the model or the adapter. */
export const Browse = defineMessage<{ field: "model" | "adapter" }>()("browse");
/** Sent by the webview's Restart button after the sidecar died. */
export const RestartSidecar = defineMessage<Record<string, never>>()("restartSidecar");
/** Sent by the webview's refresh of the run list. */
export const RefreshRuns = defineMessage<Record<string, never>>()("refreshRuns");

// ---- Extension → webview ----

/** Sent by the extension after `Ready` and on refresh: finished runs and the model setting, for the pickers. */
export const Choices = defineMessage<{ runs: RunChoice[]; defaultModel: string; note?: string }>()("choices");
/** Sent by the extension: a piece of an answer. */
export const Token = defineMessage<{ id: string; column: ChatColumn; text: string }>()("token");
/** Sent by the extension when an answer is complete or stopped; `text` is the whole answer. */
export const AnswerDone = defineMessage<{ id: string; column: ChatColumn; text: string; stopped: boolean }>()("answerDone");
/** Sent by the extension when an answer failed; `sidecarDown` offers the Restart action. */
export const AnswerFailed = defineMessage<{ id: string; column: ChatColumn; message: string; sidecarDown: boolean }>()("answerFailed");
/** Sent by the extension when a file was picked with Browse. */
export const Picked = defineMessage<{ field: "model" | "adapter"; path: string }>()("picked");
/** Sent by the extension: the sidecar died (`down`) or is back (`!down`). */
export const SidecarStatus = defineMessage<{ down: boolean; message: string }>()("sidecarStatus");
/** Sent by the extension for "Ask About Selection" and the chat participant: ask this as if typed. */
export const AskQuestion = defineMessage<{ question: string }>()("askQuestion");

/** Stable ids the E2E tests use. */
export const CHAT_IDS = {
    runs: "runs",
    model: "model",
    adapter: "adapter",
    system: "system",
    temperature: "temperature",
    topP: "top-p",
    maxTokens: "max-tokens",
    mode: "mode",
    conversation: "conversation",
    question: "question",
    send: "send",
    stop: "stop",
    regenerate: "regenerate",
    clear: "clear",
    banner: "banner",
    restart: "restart"
} as const;

export const CHAT_VIEW_TYPE = "loraStudio.chat";
