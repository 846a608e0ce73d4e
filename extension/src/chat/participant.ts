// The @lora chat participant, where the editor has the chat API (VS Code with a chat provider). code-server and
// other hosts lack `vscode.chat` or its UI: registration is skipped there and the chat panel does the job.
// What it answers, and how, lives in participantHandler.ts (vscode-free, tested against the real sidecar).
import * as vscode from "vscode";
import type { ChatClient } from "./chatClient";
import { createParticipantHandler, type ParticipantTarget } from "./participantHandler";

export const CHAT_PARTICIPANT_ID = "loraStudio.lora";

export function registerChatParticipant(client: ChatClient, target: ParticipantTarget, threads: () => number): vscode.Disposable | undefined {
    const chatApi = (vscode as { chat?: typeof vscode.chat }).chat;
    if (typeof chatApi?.createChatParticipant !== "function") return undefined;
    // VS Code's chat types satisfy the handler's structural ones; the result type is vscode.ChatResult's subset.
    const handler: vscode.ChatRequestHandler = createParticipantHandler(CHAT_PARTICIPANT_ID, client, target, threads);
    try {
        return chatApi.createChatParticipant(CHAT_PARTICIPANT_ID, handler);
    } catch {
        // Declared but unavailable (no chat provider in this host): the panel still works.
        return undefined;
    }
}
