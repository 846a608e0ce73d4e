// The chat panel webview (bundled to dist/media/chat.js). It owns the conversation (kept with setState, so it
// survives a reload), sends each question with its history, renders streamed answers with the safe Markdown
// subset (markdown.ts: DOM nodes only, never innerHTML), and offers Stop, Regenerate and Restart.
import {
    AnswerDone, AnswerFailed, Ask, AskQuestion, Browse, CHAT_IDS, Choices, type ChatAnswer, type ChatColumn, type ChatExchange, type ChatSettings,
    type ChatState, columnsFor, DEFAULT_CHAT_SETTINGS, historyFor, Picked, Ready, RefreshRuns, RestartSidecar, type RunChoice, SidecarStatus, Stop, Token
} from "../../sidecar/src/protocol/chatWebview";
import { buildMarkdown, domFactory, parseMarkdown } from "./markdown";

import { byId, vscodeApi } from "../shared/vscodeApi";

const vscode = vscodeApi<ChatState>();
const COLUMN_TITLES: Record<ChatColumn, string> = { base: "Base model", tuned: "Tuned (with adapter)" };

const restored = vscode.getState();
const state: ChatState = {
    settings: { ...DEFAULT_CHAT_SETTINGS, ...restored?.settings },
    // Answers that were streaming when the window reloaded lost their request: show them as stopped.
    exchanges: (restored?.exchanges ?? []).map((e) => ({
        ...e,
        answers: Object.fromEntries(Object.entries(e.answers).map(([c, a]) => [c, a.state === "streaming" ? { ...a, state: "stopped" } : a]))
    }))
};
let runs: RunChoice[] = [];
let nextId = Date.now();

const inputs = {
    model: byId<HTMLInputElement>(CHAT_IDS.model),
    adapter: byId<HTMLInputElement>(CHAT_IDS.adapter),
    system: byId<HTMLTextAreaElement>(CHAT_IDS.system),
    temperature: byId<HTMLInputElement>(CHAT_IDS.temperature),
    topP: byId<HTMLInputElement>(CHAT_IDS.topP),
    maxTokens: byId<HTMLInputElement>(CHAT_IDS.maxTokens),
    mode: byId<HTMLSelectElement>(CHAT_IDS.mode),
    runs: byId<HTMLSelectElement>(CHAT_IDS.runs),
    question: byId<HTMLTextAreaElement>(CHAT_IDS.question)
};

function save(): void {
    vscode.setState(state);
}

function showSettings(): void {
    const s = state.settings;
    inputs.model.value = s.model;
    inputs.adapter.value = s.adapter;
    inputs.system.value = s.system;
    inputs.temperature.value = String(s.temperature);
    inputs.topP.value = String(s.topP);
    inputs.maxTokens.value = String(s.maxTokens);
    inputs.mode.value = s.mode;
}

function numberFrom(input: HTMLInputElement, fallback: number, min: number, max: number): number {
    const n = Number(input.value);
    return input.value.trim() !== "" && Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

function readSettings(): void {
    state.settings = {
        model: inputs.model.value.trim(),
        adapter: inputs.adapter.value.trim(),
        system: inputs.system.value,
        temperature: numberFrom(inputs.temperature, DEFAULT_CHAT_SETTINGS.temperature, 0, 2),
        topP: numberFrom(inputs.topP, DEFAULT_CHAT_SETTINGS.topP, 0, 1),
        maxTokens: Math.round(numberFrom(inputs.maxTokens, DEFAULT_CHAT_SETTINGS.maxTokens, 1, 8192)),
        mode: inputs.mode.value as ChatSettings["mode"]
    };
    save();
}

for (const input of [inputs.model, inputs.adapter, inputs.system, inputs.temperature, inputs.topP, inputs.maxTokens, inputs.mode]) {
    input.addEventListener("change", () => readSettings());
}

function showRuns(note: string | undefined): void {
    const options = runs.map((run, i) => {
        const option = document.createElement("option");
        option.value = String(i);
        option.textContent = run.label;
        return option;
    });
    const custom = document.createElement("option");
    custom.value = "";
    custom.textContent = runs.length > 0 ? "Custom (paths below)" : "No finished runs";
    inputs.runs.replaceChildren(...options, custom);
    const selected = runs.findIndex((r) => r.model === state.settings.model && r.adapter === state.settings.adapter);
    inputs.runs.value = selected >= 0 ? String(selected) : "";
    const noteEl = byId("note");
    noteEl.hidden = !note;
    noteEl.textContent = note ?? "";
}

inputs.runs.addEventListener("change", () => {
    const run = runs[Number(inputs.runs.value)];
    if (inputs.runs.value === "" || !run) return;
    inputs.model.value = run.model;
    inputs.adapter.value = run.adapter;
    readSettings();
});

// ---- The conversation ----

const conversation = byId(CHAT_IDS.conversation);
const answerViews = new Map<string, HTMLElement>();
const viewKey = (id: string, column: ChatColumn) => `${id}/${column}`;

function renderAnswer(el: HTMLElement, answer: ChatAnswer): void {
    el.dataset.state = answer.state;
    const body = buildMarkdown(parseMarkdown(answer.text), domFactory(document));
    const status: Node[] = [];
    if (answer.state === "streaming" && answer.text === "") status.push(statusLine("Thinking…"));
    if (answer.state === "stopped") status.push(statusLine("(stopped)"));
    if (answer.state === "error") {
        const error = statusLine(answer.error ?? "Failed.");
        error.classList.add("error");
        status.push(error);
    }
    el.replaceChildren(...body, ...status);
}

function statusLine(text: string): HTMLElement {
    const p = document.createElement("p");
    p.className = "status";
    p.textContent = text;
    return p;
}

function renderExchange(exchange: ChatExchange): HTMLElement {
    const wrapper = document.createElement("section");
    wrapper.className = "exchange";
    wrapper.dataset.id = exchange.id;
    const question = document.createElement("div");
    question.className = "question";
    question.dataset.testid = "asked";
    question.textContent = exchange.question;
    const columns = document.createElement("div");
    const present = (["base", "tuned"] as const).filter((c) => exchange.answers[c]);
    columns.className = `answers columns-${present.length}`;
    for (const column of present) {
        const box = document.createElement("div");
        box.className = "answer-box";
        const title = document.createElement("div");
        title.className = "answer-title";
        title.textContent = COLUMN_TITLES[column];
        const body = document.createElement("div");
        body.className = "answer";
        body.dataset.testid = `answer-${column}`;
        renderAnswer(body, exchange.answers[column]!);
        answerViews.set(viewKey(exchange.id, column), body);
        box.append(title, body);
        columns.append(box);
    }
    wrapper.append(question, columns);
    return wrapper;
}

function renderConversation(): void {
    answerViews.clear();
    conversation.replaceChildren(...state.exchanges.map(renderExchange));
    updateButtons();
}

function streaming(): ChatExchange | undefined {
    return state.exchanges.find((e) => Object.values(e.answers).some((a) => a?.state === "streaming"));
}

function updateButtons(): void {
    const busy = streaming() !== undefined;
    byId<HTMLButtonElement>(CHAT_IDS.stop).disabled = !busy;
    byId<HTMLButtonElement>(CHAT_IDS.regenerate).disabled = busy || state.exchanges.length === 0;
    byId<HTMLButtonElement>(CHAT_IDS.send).disabled = busy;
}

function updateAnswer(id: string, column: ChatColumn, change: (answer: ChatAnswer) => void): void {
    const exchange = state.exchanges.find((e) => e.id === id);
    const answer = exchange?.answers[column];
    if (!answer) return;
    change(answer);
    const view = answerViews.get(viewKey(id, column));
    if (view) renderAnswer(view, answer);
    updateButtons();
    if (answer.state !== "streaming") save();
    view?.scrollIntoView({ block: "end" });
}

function ask(question: string, id: string = `q${nextId++}`): void {
    readSettings();
    const columns = columnsFor(state.settings);
    const before = state.exchanges.filter((e) => e.id !== id);
    const exchange: ChatExchange = { id, question, answers: Object.fromEntries(columns.map((c) => [c, { text: "", state: "streaming" }])) };
    state.exchanges = [...before, exchange];
    save();
    renderConversation();
    conversation.lastElementChild?.scrollIntoView({ block: "end" });
    vscode.postMessage(Ask.create({
        id,
        question,
        settings: state.settings,
        columns,
        history: Object.fromEntries(columns.map((c) => [c, historyFor(before, c)]))
    }));
}

byId<HTMLFormElement>("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = inputs.question.value.trim();
    if (question === "" || streaming()) return;
    inputs.question.value = "";
    ask(question);
});
inputs.question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        byId<HTMLFormElement>("composer").requestSubmit();
    }
});
byId(CHAT_IDS.stop).addEventListener("click", () => {
    const exchange = streaming();
    if (exchange) vscode.postMessage(Stop.create({ id: exchange.id }));
});
byId(CHAT_IDS.regenerate).addEventListener("click", () => {
    const last = state.exchanges.at(-1);
    if (last && !streaming()) ask(last.question, last.id);
});
byId(CHAT_IDS.clear).addEventListener("click", () => {
    const exchange = streaming();
    if (exchange) vscode.postMessage(Stop.create({ id: exchange.id }));
    state.exchanges = [];
    save();
    renderConversation();
});
byId("browse-model").addEventListener("click", () => vscode.postMessage(Browse.create({ field: "model" })));
byId("browse-adapter").addEventListener("click", () => vscode.postMessage(Browse.create({ field: "adapter" })));
byId("refresh-runs").addEventListener("click", () => vscode.postMessage(RefreshRuns.create({})));
byId(CHAT_IDS.restart).addEventListener("click", () => {
    byId<HTMLButtonElement>(CHAT_IDS.restart).disabled = true;
    vscode.postMessage(RestartSidecar.create({}));
});

function showBanner(down: boolean, message: string): void {
    const banner = byId(CHAT_IDS.banner);
    banner.hidden = !down;
    byId("banner-text").textContent = message;
    byId<HTMLButtonElement>(CHAT_IDS.restart).disabled = false;
}

window.addEventListener("message", (event: MessageEvent<unknown>) => {
    const message = event.data;
    if (Token.is(message)) {
        const { id, column, text } = message.payload;
        updateAnswer(id, column, (a) => void (a.text += text));
    } else if (AnswerDone.is(message)) {
        const { id, column, text, stopped } = message.payload;
        updateAnswer(id, column, (a) => {
            a.text = text;
            a.state = stopped ? "stopped" : "done";
        });
        showBanner(false, ""); // the sidecar answers again
    } else if (AnswerFailed.is(message)) {
        const { id, column, message: error, sidecarDown } = message.payload;
        updateAnswer(id, column, (a) => {
            a.state = "error";
            a.error = error;
        });
        if (sidecarDown) showBanner(true, error);
    } else if (Choices.is(message)) {
        runs = message.payload.runs;
        // The newest finished run is the default until the user picks something else.
        if (state.settings.model === "" && runs[0]) state.settings = { ...state.settings, model: runs[0].model, adapter: runs[0].adapter };
        else if (state.settings.model === "" && message.payload.defaultModel) state.settings = { ...state.settings, model: message.payload.defaultModel };
        save();
        showSettings();
        showRuns(message.payload.note);
    } else if (Picked.is(message)) {
        inputs[message.payload.field].value = message.payload.path;
        readSettings();
        showRuns(undefined);
    } else if (SidecarStatus.is(message)) {
        showBanner(message.payload.down, message.payload.message);
    } else if (AskQuestion.is(message)) {
        const exchange = streaming();
        if (exchange) vscode.postMessage(Stop.create({ id: exchange.id }));
        ask(message.payload.question);
    }
});

showSettings();
renderConversation();
save();
vscode.postMessage(Ready.create({}));
