// The chat feature: "Open Chat", "Ask About Selection", the panel serializer and the @lora participant.
// The sidecar starts on the first chat request (the panel lists runs as it opens), not at activation.
import * as vscode from "vscode";
import { CHAT_VIEW_TYPE } from "../../../sidecar/src/protocol/chatWebview";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { ChatClient } from "./chatClient";
import { chatThreads } from "./settings";
import { ChatPanel } from "./chatPanel";
import { registerChatParticipant } from "./participant";
import { finishedRunChoices } from "./runChoices";

export const CHAT_COMMANDS = {
    openChat: "loraStudio.openChat",
    askAboutSelection: "loraStudio.askAboutSelection"
} as const;

export function activateChat(context: vscode.ExtensionContext, supervisor: SidecarSupervisor): void {
    const client = new ChatClient(supervisor);
    const show = () => ChatPanel.show(context.extensionUri, supervisor, client);
    context.subscriptions.push(
        { dispose: () => void client.dispose() },
        vscode.commands.registerCommand(CHAT_COMMANDS.openChat, () => void show()),
        vscode.commands.registerCommand(CHAT_COMMANDS.askAboutSelection, () => askAboutSelection(show)),
        vscode.window.registerWebviewPanelSerializer(CHAT_VIEW_TYPE, {
            deserializeWebviewPanel: async (panel) => ChatPanel.revive(panel, context.extensionUri, supervisor, client)
        })
    );
    const participant = registerChatParticipant(client, async () => {
        const { runs } = await finishedRunChoices(supervisor, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
        if (runs[0]) return runs[0];
        const model = vscode.workspace.getConfiguration("loraStudio").get<string>("baseModel") ?? "";
        return model ? { model, adapter: "" } : undefined;
    }, chatThreads);
    if (participant) context.subscriptions.push(participant);
}

function askAboutSelection(show: () => ChatPanel): void {
    const editor = vscode.window.activeTextEditor;
    const question = editor ? editor.document.getText(editor.selection).trim() : "";
    if (!question) {
        void vscode.window.showInformationMessage("Select some text in the editor first; LoRA Studio asks it as a question.");
        return;
    }
    show().ask(question);
}
