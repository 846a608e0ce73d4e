// The chat panel: one webview (reused), answers streamed from the sidecar through ChatClient, a column
// per model (base, tuned), Stop per exchange, and a banner with Restart when the sidecar dies. The
// conversation lives in the webview's state, so a reload (serializer) brings it back.
import * as vscode from "vscode";
import {
    AnswerDone, AnswerFailed, Ask, type AskParams, AskQuestion, Browse, CHAT_VIEW_TYPE, Choices, type ChatColumn, type ChatSettings, Picked, Ready,
    RefreshRuns, RestartSidecar, SidecarStatus, Stop, Token
} from "../../../sidecar/src/protocol/chatWebview";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { RESTART_SIDECAR_COMMAND } from "../sidecar/vscodeSupervisor";
import { ChatClient, describeChatError, isSidecarDown } from "./chatClient";
import { chatThreads } from "./settings";
import { chatHtml, chatResourceRoots } from "./chatHtml";
import { finishedRunChoices } from "./runChoices";

export class ChatPanel implements vscode.Disposable {
    private static current: ChatPanel | undefined;
    private readonly disposables: vscode.Disposable[] = [];
    /** Request ids of each exchange's running answers, for Stop. */
    private readonly running = new Map<string, Set<string>>();
    private ready = false;
    private readonly queued: unknown[] = [];
    private nextRequest = 1;

    /** Shows the panel, creating it when there is none. */
    static show(extensionUri: vscode.Uri, supervisor: SidecarSupervisor, client: ChatClient): ChatPanel {
        if (ChatPanel.current) {
            ChatPanel.current.panel.reveal(undefined, false);
            return ChatPanel.current;
        }
        const panel = vscode.window.createWebviewPanel(CHAT_VIEW_TYPE, "LoRA Studio Chat", { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, {
            enableScripts: true,
            // Answers keep streaming into a hidden panel.
            retainContextWhenHidden: true,
            localResourceRoots: chatResourceRoots(extensionUri)
        });
        return new ChatPanel(panel, extensionUri, supervisor, client);
    }

    /** Rebuilds a panel VS Code restored after a reload; the webview restores its own conversation. */
    static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, supervisor: SidecarSupervisor, client: ChatClient): void {
        ChatPanel.current?.dispose();
        panel.webview.options = { enableScripts: true, localResourceRoots: chatResourceRoots(extensionUri) };
        new ChatPanel(panel, extensionUri, supervisor, client);
    }

    private constructor(private readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, private readonly supervisor: SidecarSupervisor, private readonly client: ChatClient) {
        ChatPanel.current = this;
        panel.webview.html = chatHtml(panel.webview, extensionUri);
        this.disposables.push(
            panel.onDidDispose(() => this.dispose()),
            panel.webview.onDidReceiveMessage((message: unknown) => void this.onMessage(message)),
            supervisor.onDidExit((exit) => {
                if (exit.expected) return;
                void this.post(SidecarStatus.create({ down: true, message: `LoRA Studio's sidecar stopped (${exit.description}).${exit.willRestart ? " It is restarting." : ""}` }));
            }),
            // The banner stays until Restart or the next complete answer: a sidecar that restarted by itself
            // still lost the answers it was giving, and the user should see why.
            supervisor.onDidChangeState((change) => {
                if (change.state === "failed") void this.post(SidecarStatus.create({ down: true, message: change.error?.message ?? "LoRA Studio's sidecar failed." }));
            })
        );
    }

    /** Asks `question` as if typed into the panel (Ask About Selection). */
    ask(question: string): void {
        void this.post(AskQuestion.create({ question }));
    }

    private async onMessage(message: unknown): Promise<void> {
        if (Ready.is(message)) {
            this.ready = true;
            // Choices first: a question queued by Ask About Selection needs the default model and adapter.
            await this.sendChoices();
            for (const queued of this.queued.splice(0)) await this.panel.webview.postMessage(queued);
        } else if (RefreshRuns.is(message)) await this.sendChoices();
        else if (Ask.is(message)) this.answer(message.payload);
        else if (Stop.is(message)) await this.stop(message.payload.id);
        else if (Browse.is(message)) await this.browse(message.payload.field);
        else if (RestartSidecar.is(message)) await this.restartSidecar();
    }

    private async sendChoices(): Promise<void> {
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
        const { runs, note } = await finishedRunChoices(this.supervisor, folder);
        const setting = vscode.workspace.getConfiguration("loraStudio").get<string>("baseModel") ?? "";
        await this.post(Choices.create({ runs, defaultModel: setting, ...(note ? { note } : {}) }));
    }

    private answer(ask: AskParams): void {
        const ids = new Set<string>();
        this.running.set(ask.id, ids);
        // The sidecar answers one at a time: the tuned answer, the one the user came for, goes first.
        for (const column of [...ask.columns].sort((a, b) => (a === "tuned" ? -1 : b === "tuned" ? 1 : 0))) {
            const requestId = `${ask.id}:${column}:${this.nextRequest++}`;
            ids.add(requestId);
            void this.answerColumn(ask.id, column, requestId, ask.question, ask.settings, ask.history[column] ?? []).finally(() => {
                ids.delete(requestId);
                if (ids.size === 0 && this.running.get(ask.id) === ids) this.running.delete(ask.id);
            });
        }
    }

    private async answerColumn(id: string, column: ChatColumn, requestId: string, question: string, settings: ChatSettings, history: Array<{ user: string; assistant: string }>): Promise<void> {
        if (settings.model.trim() === "") {
            await this.post(AnswerFailed.create({ id, column, message: "Choose a base model (a .gguf file) first.", sidecarDown: false }));
            return;
        }
        try {
            const result = await this.client.answer({
                config: {
                    model: settings.model.trim(),
                    threads: chatThreads(),
                    ...(column === "tuned" ? { adapter: settings.adapter.trim() } : {}),
                    ...(settings.system ? { system: settings.system } : {})
                },
                requestId,
                message: question,
                history,
                temperature: settings.temperature,
                topP: settings.topP,
                maxTokens: settings.maxTokens,
                onText: (text) => void this.post(Token.create({ id, column, text }))
            });
            await this.post(AnswerDone.create({ id, column, text: result.answer, stopped: result.stopped }));
            // An adapter recorded for another base, or old exchanges dropped to fit the context: said, not hidden.
            for (const warning of result.warnings) void vscode.window.showWarningMessage(`LoRA Studio chat: ${warning}`);
        } catch (error) {
            await this.post(AnswerFailed.create({ id, column, message: describeChatError(error), sidecarDown: isSidecarDown(error) }));
        }
    }

    private async stop(id: string): Promise<void> {
        await Promise.all([...(this.running.get(id) ?? [])].map((requestId) => this.client.stop(requestId)));
    }

    private async restartSidecar(): Promise<void> {
        await vscode.commands.executeCommand(RESTART_SIDECAR_COMMAND);
        const running = this.supervisor.state === "running";
        const why = this.supervisor.lastError?.message ?? `LoRA Studio's sidecar is ${this.supervisor.state}.`;
        await this.post(SidecarStatus.create({ down: !running, message: running ? "" : why }));
    }

    private async browse(field: "model" | "adapter"): Promise<void> {
        const picked = await vscode.window.showOpenDialog({
            canSelectMany: false,
            openLabel: field === "model" ? "Use as Base Model" : "Use as Adapter",
            filters: { GGUF: ["gguf"] },
            ...(vscode.workspace.workspaceFolders?.[0] ? { defaultUri: vscode.workspace.workspaceFolders[0].uri } : {})
        });
        if (picked?.[0]) await this.post(Picked.create({ field, path: picked[0].fsPath }));
    }

    /** Messages wait until the webview's script listens. */
    private async post(message: unknown): Promise<void> {
        if (!this.ready) {
            this.queued.push(message);
            return;
        }
        await this.panel.webview.postMessage(message);
    }

    dispose(): void {
        if (ChatPanel.current === this) ChatPanel.current = undefined;
        for (const requestIds of this.running.values()) for (const requestId of requestIds) void this.client.stop(requestId);
        for (const d of this.disposables.splice(0)) d.dispose();
        this.panel.dispose();
    }
}
