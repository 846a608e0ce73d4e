// The @lora chat participant, where the editor has the chat API (VS Code with Copilot Chat). code-server and
// other hosts lack `vscode.chat` or its UI: registration is skipped there and the chat panel does the job.
import * as vscode from "vscode";
import type { ChatClient } from "./chatClient";
import { describeChatError } from "./chatClient";
import type { RunChoice } from "../../../sidecar/src/protocol/chatWebview";

export const CHAT_PARTICIPANT_ID = "loraStudio.lora";

/** The model + adapter the participant answers with: the newest finished run, or the base model setting. */
export type ParticipantTarget = () => Promise<Pick<RunChoice, "model" | "adapter"> | undefined>;

export function registerChatParticipant(client: ChatClient, target: ParticipantTarget, threads: () => number): vscode.Disposable | undefined {
    const chatApi = (vscode as { chat?: typeof vscode.chat }).chat;
    if (typeof chatApi?.createChatParticipant !== "function") return undefined;
    let requests = 1;
    const handler: vscode.ChatRequestHandler = async (request, _context, stream, token) => {
        const choice = await target();
        if (!choice?.model) {
            stream.markdown("No model to ask: finish a training run, or set `loraStudio.baseModel`.");
            return;
        }
        const requestId = `participant:${requests++}`;
        const cancel = token.onCancellationRequested(() => void client.stop(requestId));
        try {
            await client.answer({
                config: { model: choice.model, threads: threads(), ...(choice.adapter ? { adapter: choice.adapter } : {}) },
                requestId,
                message: request.prompt,
                history: [],
                onText: (text) => stream.markdown(text)
            });
        } catch (error) {
            stream.markdown(`\n\n**LoRA Studio:** ${describeChatError(error)}`);
        } finally {
            cancel.dispose();
        }
    };
    try {
        const participant = chatApi.createChatParticipant(CHAT_PARTICIPANT_ID, handler);
        return participant;
    } catch {
        // Declared but unavailable (no chat provider in this host): the panel still works.
        return undefined;
    }
}
