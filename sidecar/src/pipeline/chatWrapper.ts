// What chat must use so that it sends exactly the tokens we trained on.
// - The wrapper: LlamaChatSession's automatic choice may be a hand-written wrapper (the spike saw one fold the system
//   prompt and drop BOS); this one renders the model's own template with the pipeline's variables (renderParameters.ts).
// - The history: LlamaChatSession starts every chat with node-llama-cpp's long default system prompt unless told
//   otherwise, which no training example contains. Seed sessions with chatHistoryFor(...) instead.
import type { ChatHistoryItem, JinjaTemplateChatWrapper, LlamaModel } from "node-llama-cpp";
import { chatTemplateOf } from "./llamaTokenizer";
import { loadNodeLlamaCpp } from "./nodeLlamaCpp";
import { ENABLE_THINKING, PINNED_DATE_STRING } from "./renderParameters";
import type { ChatMessage } from "./types";

export async function createChatWrapperForModel(model: LlamaModel, modelPath = model.filename ?? "the model"): Promise<JinjaTemplateChatWrapper> {
    const { JinjaTemplateChatWrapper } = await loadNodeLlamaCpp();
    return new JinjaTemplateChatWrapper({
        template: chatTemplateOf(model, modelPath),
        tokenizer: model.tokenizer,
        // node-llama-cpp passes `enable_thinking: reasoning` to the template; the pipeline passes ENABLE_THINKING.
        reasoning: ENABLE_THINKING,
        additionalRenderParameters: { date_string: PINNED_DATE_STRING },
        // Folds system messages into user messages only when the template rejects them; render.ts does the same.
        convertUnsupportedSystemMessagesToUserMessages: "auto"
    });
}

/**
 * Pipeline messages as node-llama-cpp chat history. Use it for `session.setChatHistory(...)` right after creating a
 * LlamaChatSession: `[]` for no system prompt (as in training data without one), or the training data's system
 * message. Without this, the session silently adds node-llama-cpp's default system prompt.
 */
export function chatHistoryFor(messages: readonly ChatMessage[]): ChatHistoryItem[] {
    return messages.map((m): ChatHistoryItem => {
        if (m.role === "system") return { type: "system", text: m.content };
        if (m.role === "user") return { type: "user", text: m.content };
        return { type: "model", response: [m.content] };
    });
}
