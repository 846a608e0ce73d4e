// Renders a conversation with the base model's own chat template and derives the assistant-only loss mask.
//
// How it stays token-for-token equal to chat: node-llama-cpp's JinjaTemplateChatWrapper renders the template with
// every message's text replaced by a unique placeholder, tokenizes the template's own text with special tokens
// enabled and the message texts as plain text, and turns bos_token/eos_token/eot_token into the model's tokens. We
// do exactly the same, so template text can never be mistaken for message text (and a user typing "<|im_end|>"
// stays plain text), and the chunk boundaries, hence the tokens, are the ones chat produces.
//
// The mask is read off the same rendering: the tokens of each assistant message's text, plus the template's text
// after it up to and including the first end-of-generation token (<|im_end|>, <|eot_id|>, <|end|>, …), are trained.
import { Template } from "@huggingface/jinja";
import type { ChatMessage, MaskedSequence, PipelineTokenizer } from "./types";
import { SYSTEM_AS_USER_FORMAT, TEMPLATE_RENDER_PARAMETERS } from "./renderParameters";

/** A piece of the template's output: its own text, a message's text (by index after squashing), or bos/eos/eot. */
type Chunk =
    | { kind: "template"; text: string }
    | { kind: "content"; message: number; text: string }
    | { kind: "builtin"; token: number | undefined };

export class TemplateRenderError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "TemplateRenderError";
    }
}

const compiled = new Map<string, Template>();
function compile(template: string): Template {
    let t = compiled.get(template);
    if (!t) {
        try {
            t = new Template(template);
        } catch (err) {
            throw new TemplateRenderError(`the model's chat template does not parse: ${(err as Error).message}`);
        }
        compiled.set(template, t);
    }
    return t;
}

/**
 * Chat joins adjacent messages of the same role with a blank line before rendering (node-llama-cpp's
 * squashChatHistoryItems); so do we, or two user lines in a row would tokenize differently.
 */
export function squashAdjacentMessages(messages: readonly ChatMessage[]): ChatMessage[] {
    const out: ChatMessage[] = [];
    for (const m of messages) {
        const last = out.at(-1);
        if (last && last.role === m.role) last.content += "\n\n" + m.content;
        else out.push({ role: m.role, content: m.content });
    }
    return out;
}

function systemAsUser(messages: readonly ChatMessage[]): ChatMessage[] {
    return messages.map((m) => (m.role === "system" ? { role: "user", content: SYSTEM_AS_USER_FORMAT.replace("{{message}}", m.content) } : m));
}

/** A marker that occurs in neither the template nor any message, so splitting the output on it is unambiguous. */
function placeholderStem(template: string, messages: readonly ChatMessage[]): string {
    for (let n = 0; ; n++) {
        const stem = `@@ls${n}q`;
        if (!template.includes(stem) && !messages.some((m) => m.content.includes(stem))) return stem;
    }
}

interface RenderedChunks {
    chunks: Chunk[];
    /** The rendered string with placeholders, used to check that turns render the same with and without later turns. */
    text: string;
    /** Offset in `text` just after each message's placeholder. */
    messageEnds: number[];
}

function renderChunks(template: string, messages: readonly ChatMessage[], tokenizer: PipelineTokenizer): RenderedChunks {
    const stem = placeholderStem(template, messages);
    const ids = { bos: `${stem}bos@@`, eos: `${stem}eos@@`, eot: `${stem}eot@@` };
    const text = compile(template).render({
        ...TEMPLATE_RENDER_PARAMETERS,
        messages: messages.map((m, i) => ({ role: m.role, content: `${stem}m${i}@@` })),
        bos_token: ids.bos,
        eos_token: ids.eos,
        eot_token: ids.eot
    });
    const chunks: Chunk[] = [];
    const messageEnds: number[] = new Array(messages.length).fill(-1);
    const marker = new RegExp(`${stem}(m\\d+|bos|eos|eot)@@`, "g");
    let last = 0;
    for (let m = marker.exec(text); m; m = marker.exec(text)) {
        if (m.index > last) chunks.push({ kind: "template", text: text.slice(last, m.index) });
        const what = m[1]!;
        if (what.startsWith("m")) {
            const index = Number(what.slice(1));
            if (messageEnds[index] !== -1) throw new TemplateRenderError(`the chat template prints message ${index + 1} twice; its tokens cannot be masked`);
            messageEnds[index] = m.index + m[0].length;
            chunks.push({ kind: "content", message: index, text: messages[index]!.content });
        } else {
            chunks.push({ kind: "builtin", token: tokenizer[what as "bos" | "eos" | "eot"] });
        }
        last = m.index + m[0].length;
    }
    if (last < text.length) chunks.push({ kind: "template", text: text.slice(last) });
    const missing = messageEnds.findIndex((e) => e === -1);
    if (missing >= 0) throw new TemplateRenderError(`the chat template drops message ${missing + 1} (role ${messages[missing]!.role})`);
    return { chunks, text, messageEnds };
}

/** What rendering did to a conversation that the dataset's author may not expect; said once per dataset (prepare.ts). */
export interface RenderNotes {
    /**
     * The template rejects a system message (Gemma's raises "System role not supported"), so, as chat does, the system
     * prompt was folded into the first user turn (SYSTEM_AS_USER_FORMAT). Called with the template's own error text.
     */
    onSystemFolded?(templateError: string): void;
}

/** Renders like chat: as given first, then with system messages folded into user messages if the template rejects them. */
function renderLikeChat(template: string, messages: readonly ChatMessage[], tokenizer: PipelineTokenizer, notes?: RenderNotes): { rendered: RenderedChunks; messages: ChatMessage[] } {
    const asGiven = squashAdjacentMessages(messages);
    try {
        return { rendered: renderChunks(template, asGiven, tokenizer), messages: asGiven };
    } catch (first) {
        if (!asGiven.some((m) => m.role === "system")) throw asTemplateError(first);
        const folded = squashAdjacentMessages(systemAsUser(messages));
        let rendered: RenderedChunks;
        try {
            rendered = renderChunks(template, folded, tokenizer);
        } catch {
            throw asTemplateError(first);
        }
        notes?.onSystemFolded?.((first as Error).message ?? String(first));
        return { rendered, messages: folded };
    }
}

function asTemplateError(err: unknown): TemplateRenderError {
    if (err instanceof TemplateRenderError) return err;
    return new TemplateRenderError(`the model's chat template failed on this conversation: ${(err as Error).message ?? String(err)}`);
}

/** Where each message's text landed in the token sequence. */
interface MessageSpan {
    /** Token range of the message's text; empty for an empty message. */
    start: number;
    end: number;
    /** Index of the merged chunk after which the template's text (and its end-of-turn token) follows. */
    nextChunk: number;
}

/**
 * Tokenizes chunks the way node-llama-cpp's LlamaText.tokenize does: adjacent texts of one kind are joined, empty
 * texts vanish, message text is always tokenized as a continuation, template text is a continuation unless it
 * starts the sequence. Returns the tokens, per merged chunk its token range, and per message where it landed.
 */
function tokenizeChunks(chunks: readonly Chunk[], tokenizer: PipelineTokenizer): { tokens: number[]; ranges: Array<[number, number]>; merged: Chunk[]; spans: Map<number, MessageSpan> } {
    // An empty message vanishes and the template texts around it merge, as in LlamaText; remember where it was.
    const merged: Chunk[] = [];
    const emptyAt: Array<{ message: number; chunk: number; offset: number }> = [];
    for (const c of chunks) {
        const prev = merged.at(-1);
        if (c.kind === "content" && c.text === "") {
            emptyAt.push({ message: c.message, chunk: prev?.kind === "template" ? merged.length - 1 : merged.length, offset: prev?.kind === "template" ? prev.text.length : 0 });
            continue;
        }
        if (c.kind === "template" && c.text === "") continue;
        if (prev && prev.kind === "template" && c.kind === "template") prev.text += c.text;
        else if (prev && prev.kind === "content" && c.kind === "content") {
            throw new TemplateRenderError(`the chat template prints messages ${prev.message + 1} and ${c.message + 1} with nothing between them; their tokens cannot be told apart`);
        } else merged.push({ ...c });
    }
    const tokens: number[] = [];
    const ranges: Array<[number, number]> = [];
    const spans = new Map<number, MessageSpan>();
    for (const [i, c] of merged.entries()) {
        const start = tokens.length;
        if (c.kind === "builtin") {
            if (c.token !== undefined) tokens.push(c.token);
        } else if (c.kind === "template") {
            tokens.push(...tokenizer.tokenize(c.text, true, start > 0));
        } else {
            tokens.push(...tokenizer.tokenize(c.text, false, true));
            spans.set(c.message, { start, end: tokens.length, nextChunk: i + 1 });
        }
        ranges.push([start, tokens.length]);
    }
    for (const e of emptyAt) {
        const chunk = merged[e.chunk];
        if (!chunk || chunk.kind !== "template" || e.offset === 0) {
            const at = ranges[e.chunk]?.[0] ?? tokens.length;
            spans.set(e.message, { start: at, end: at, nextChunk: e.chunk });
            continue;
        }
        // The empty message sat inside a merged template text: find the token boundary at its character offset.
        const [s, eEnd] = ranges[e.chunk]!;
        const before = tokenizer.tokenize(chunk.text.slice(0, e.offset), true, s > 0);
        const aligned = before.every((t, j) => tokens[s + j] === t) && s + before.length <= eEnd;
        if (!aligned) throw new TemplateRenderError(`cannot locate empty message ${e.message + 1} in the template's tokens`);
        spans.set(e.message, { start: s + before.length, end: s + before.length, nextChunk: e.chunk });
    }
    return { tokens, ranges, merged, spans };
}

/**
 * Renders `messages` and marks as targets the assistant messages listed in `trainTurns` (indices into the squashed
 * message list), each followed by the template's end-of-turn token. Tokens after the last target are dropped: no
 * label depends on them.
 */
function renderMasked(template: string, messages: readonly ChatMessage[], tokenizer: PipelineTokenizer, trainTurns: ReadonlySet<number>): MaskedSequence {
    const { chunks } = renderChunks(template, messages, tokenizer);
    const { tokens, ranges, merged, spans } = tokenizeChunks(chunks, tokenizer);
    const mask = new Uint8Array(tokens.length);
    let lastTarget = -1;
    for (const turn of [...trainTurns].sort((a, b) => a - b)) {
        const span = spans.get(turn)!;
        mask.fill(1, span.start, span.end);
        // The end-of-turn token: the first end-of-generation token in the template text after the reply.
        let endToken = -1;
        for (let j = span.nextChunk; j < merged.length && endToken < 0; j++) {
            if (merged[j]!.kind === "content") break;
            const [s, e] = ranges[j]!;
            for (let t = Math.max(s, span.end); t < e; t++) {
                if (tokenizer.isEndOfGeneration(tokens[t]!)) { endToken = t; break; }
            }
        }
        if (endToken < 0) {
            throw new TemplateRenderError(`the chat template prints no end-of-turn token after assistant message ${turn + 1}, so the model could never learn to stop`);
        }
        mask.fill(1, span.end, endToken + 1);
        lastTarget = endToken;
    }
    mask[0] = 0; // the first token has nothing before it to be predicted from
    return { tokens: Int32Array.from(tokens.slice(0, lastTarget + 1)), trainMask: mask.slice(0, lastTarget + 1) };
}

/**
 * Renders one conversation for training. Normally one sequence with every assistant turn trained. If the
 * template renders an earlier turn differently once later turns follow (some strip reasoning from old turns),
 * one sequence per assistant turn is returned instead, each ending at its turn, because that is what chat
 * sends when that turn is generated. (Qwen3 does this: with thinking off it prints an empty `<think>\n\n</think>\n\n`
 * before the newest reply only, as its generation prompt does, so each turn is trained after the block chat sends,
 * and the block, being template text before the reply, is never a label.)
 */
export function renderConversation(template: string, messages: readonly ChatMessage[], tokenizer: PipelineTokenizer, notes?: RenderNotes): MaskedSequence[] {
    const { rendered, messages: squashed } = renderLikeChat(template, messages, tokenizer, notes);
    const assistantTurns = squashed.flatMap((m, i) => (m.role === "assistant" ? [i] : []));
    if (assistantTurns.length === 0) return [{ tokens: new Int32Array(0), trainMask: new Uint8Array(0) }];
    const consistent = assistantTurns.every((k) => {
        if (k === squashed.length - 1) return true;
        const alone = renderChunks(template, squashed.slice(0, k + 1), tokenizer);
        return alone.text.slice(0, alone.messageEnds[k]) === rendered.text.slice(0, rendered.messageEnds[k]);
    });
    if (consistent) return [renderMasked(template, squashed, tokenizer, new Set(assistantTurns))];
    return assistantTurns.map((k) => renderMasked(template, squashed.slice(0, k + 1), tokenizer, new Set([k])));
}

/**
 * The prompt chat sends before the model writes the reply to `messages` (which must end with a user turn): the
 * rendering of the conversation followed by an empty assistant turn, cut where the assistant's text would begin.
 * This is how node-llama-cpp builds it, and the training sequence's tokens before the reply equal these.
 */
export function renderPromptTokens(template: string, messages: readonly ChatMessage[], tokenizer: PipelineTokenizer): number[] {
    const withReply: ChatMessage[] = [...messages, { role: "assistant", content: "" }];
    const { rendered, messages: squashed } = renderLikeChat(template, withReply, tokenizer);
    const replyIndex = squashed.length - 1;
    // Chat stops rendering at the (empty) reply: what follows it is only a stop trigger, never sent.
    const cut = rendered.chunks.findIndex((c) => c.kind === "content" && c.message === replyIndex);
    return tokenizeChunks(rendered.chunks.slice(0, cut), tokenizer).tokens;
}

/** Raw text examples (no chat template): BOS as the tokenizer adds it, the text, then EOS; all but the first token trained. */
export function renderRawText(text: string, tokenizer: PipelineTokenizer): MaskedSequence {
    const tokens = [
        ...(tokenizer.addBos && tokenizer.bos !== undefined ? [tokenizer.bos] : []),
        ...tokenizer.tokenize(text, false, false),
        ...(tokenizer.eos !== undefined ? [tokenizer.eos] : [])
    ];
    const mask = new Uint8Array(tokens.length).fill(1);
    if (mask.length > 0) mask[0] = 0;
    return { tokens: Int32Array.from(tokens), trainMask: mask };
}
