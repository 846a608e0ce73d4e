// The Mistral [INST] family of ollamaTemplate.ts: `[INST]user[/INST]answer</s>` turns, no generation prompt, and
// one of three ways to place a system prompt. Which one a template uses is read off its own renderings of small
// probe conversations (never assumed from its name); ollamaTemplate.ts then checks the result on the shared probes.
//
//   "last-user"  (Mistral Nemo, v3): the first message's system prompt goes into the LAST message, when that is a
//                user message, as `[INST]system\n\nuser[/INST]`; a system message anywhere else makes the template
//                raise, so chat folds every system message into a user message (SYSTEM_AS_USER_FORMAT).
//   "block"      (Ministral 3, v7/v13): `[SYSTEM_PROMPT]system[/SYSTEM_PROMPT]` first, or the template's default
//                system prompt when there is none; a later system message raises (folded as above).
//   "block-in-place" (Devstral): as "block", but a later system message is printed where it is, as another
//                `[SYSTEM_PROMPT]…[/SYSTEM_PROMPT]`.
//
// Not supported: a default system prompt that calls strftime_now() (Mistral Small 3.x prints today's date in it).
// The Jinja output then changes every day and training saw the day it ran; a Go TEMPLATE can only freeze one date
// (Ollama's own currentDate function would give the day of the chat, which is not what the adapter was trained on).
import { SYSTEM_AS_USER_FORMAT } from "../pipeline/renderParameters";

interface Turn {
    role: "system" | "user" | "assistant";
    content: string;
}

/** ollamaTemplate.ts's helpers, passed in so this file does not import it back. */
export interface MistralHelpers {
    literal(text: string): string;
    renderJinjaLikeChat(source: string, turns: readonly Turn[], addGenerationPrompt?: boolean, eosToken?: string): string;
    squash(turns: readonly Turn[]): Turn[];
}

type SystemMode = "last-user" | "block" | "block-in-place";

interface Shape {
    mode: SystemMode;
    /** Printed first when no leading system message is given: "" or the default `[SYSTEM_PROMPT]…[/SYSTEM_PROMPT]`. */
    defaultHead: string;
    eos: string;
}

const [FOLD_PRE, FOLD_POST] = SYSTEM_AS_USER_FORMAT.split("{{message}}") as [string, string];
const BLOCK_OPEN = "[SYSTEM_PROMPT]";
const BLOCK_CLOSE = "[/SYSTEM_PROMPT]";

/** What the Go template prints, written as plain TypeScript, for the probe comparison. */
function renderShape(shape: Shape, turns: readonly Turn[], squash: MistralHelpers["squash"]): string {
    const given = squash(turns);
    const fold = shape.mode !== "block-in-place" && given.some((t, i) => i > 0 && t.role === "system");
    const messages = fold ? squash(turns.map((t) => (t.role === "system" ? { role: "user", content: FOLD_PRE + t.content + FOLD_POST } : t))) : given;
    const lead = messages[0]?.role === "system" ? messages[0].content : undefined;
    let out = shape.mode === "last-user" ? "" : lead !== undefined ? BLOCK_OPEN + lead + BLOCK_CLOSE : shape.defaultHead;
    messages.forEach((m, i) => {
        if (i === 0 && lead !== undefined) return;
        if (m.role === "assistant") out += m.content + shape.eos;
        else if (m.role === "system") out += BLOCK_OPEN + m.content + BLOCK_CLOSE;
        else out += `[INST]${shape.mode === "last-user" && lead !== undefined && i === messages.length - 1 ? `${lead}\n\n` : ""}${m.content}[/INST]`;
    });
    return out;
}

/**
 * The Go template. Ollama's .Messages keeps system messages in place (consecutive ones joined), so the template
 * first looks for a system message after the first one ($fold), then for a leading one ($lead). Folded system
 * messages join the user text around them with a blank line, as chat's squashing does ($open: an [INST] is open).
 */
function goTemplate(shape: Shape, literal: MistralHelpers["literal"]): string {
    const eos = literal(shape.eos);
    const foldable = shape.mode !== "block-in-place";
    const lines = [
        foldable ? `{{- $fold := false }}{{- range $i, $m := .Messages }}{{ if and $i (eq $m.Role "system") }}{{ $fold = true }}{{ end }}{{ end }}` : `{{- $fold := false }}`,
        `{{- $lead := false }}{{- if not $fold }}{{ if .Messages }}{{ if eq (index .Messages 0).Role "system" }}{{ $lead = true }}{{ end }}{{ end }}{{ end }}`,
        shape.mode === "last-user" ? "" : `{{- if $lead }}${BLOCK_OPEN}{{ (index .Messages 0).Content }}${BLOCK_CLOSE}{{ else }}${literal(shape.defaultHead)}{{ end }}`,
        `{{- $open := false }}{{- range $i, $m := .Messages }}`,
        `{{- if and $lead (not $i) }}`,
        `{{- else if eq .Role "assistant" }}{{ if $open }}[/INST]{{ $open = false }}{{ end }}{{ .Content }}${eos}`,
        shape.mode === "block-in-place" ? `{{- else if eq .Role "system" }}{{ if $open }}[/INST]{{ $open = false }}{{ end }}${BLOCK_OPEN}{{ .Content }}${BLOCK_CLOSE}` : "",
        `{{- else }}{{ if $open }}\n\n{{ else }}[INST]{{ $open = true }}{{ end }}`,
        `{{- if eq .Role "system" }}${literal(FOLD_PRE)}{{ .Content }}${literal(FOLD_POST)}`,
        shape.mode === "last-user"
            ? `{{- else }}{{ if $lead }}{{ if eq (len (slice $.Messages $i)) 1 }}{{ (index $.Messages 0).Content }}\n\n{{ end }}{{ end }}{{ .Content }}{{ end }}`
            : `{{- else }}{{ .Content }}{{ end }}`,
        `{{- end }}{{- end }}{{ if $open }}[/INST]{{ end }}`
    ];
    return lines.filter((l) => l !== "").join("\n");
}

/** Reads the template's shape off its renderings, or says why it has none LoRA Studio can reproduce. */
export function deriveMistral(source: string, eosToken: string, h: MistralHelpers): { template: string; render(turns: readonly Turn[]): string; stops: string[] } | string {
    if (eosToken === "" && source.includes("eos_token")) return "the model's vocabulary names no end-of-sequence token, which the template prints after every answer";
    const render = (turns: readonly Turn[]): string => h.renderJinjaLikeChat(source, turns, true, eosToken);
    const alone = render([{ role: "user", content: "U" }]);
    if (!alone.endsWith("[INST]U[/INST]")) return `a single user message renders as ${JSON.stringify(alone.slice(-80))}`;
    const defaultHead = alone.slice(0, -"[INST]U[/INST]".length);
    if (defaultHead !== "" && !(defaultHead.startsWith(BLOCK_OPEN) && defaultHead.endsWith(BLOCK_CLOSE))) return `it prints ${JSON.stringify(defaultHead.slice(0, 80))} before the first [INST]`;
    if (defaultHead !== "" && /strftime_now\s*\(/.test(source)) {
        return "its default system prompt calls strftime_now() (today's date), which changes every day; a fixed TEMPLATE cannot print what training printed";
    }
    const withSystem = render([{ role: "system", content: "S" }, { role: "user", content: "U" }]);
    let blockMode: boolean;
    if (withSystem === "[INST]S\n\nU[/INST]" && defaultHead === "") blockMode = false;
    else if (withSystem === `${BLOCK_OPEN}S${BLOCK_CLOSE}[INST]U[/INST]`) blockMode = true;
    else return `a system prompt renders as ${JSON.stringify(withSystem.slice(0, 120))}`;
    // A system message after the first decides between folding (the template raises) and printing it in place.
    const later: Turn[] = [{ role: "user", content: "U" }, { role: "assistant", content: "A" }, { role: "system", content: "S" }, { role: "user", content: "V" }];
    const expected = render(later);
    const modes: SystemMode[] = blockMode ? ["block", "block-in-place"] : ["last-user"];
    for (const mode of modes) {
        const shape: Shape = { mode, defaultHead, eos: eosToken };
        if (renderShape(shape, later, h.squash) !== expected) continue;
        const stops = [...new Set([...(eosToken !== "" ? [eosToken] : []), "[INST]", "[/INST]"])];
        return { template: goTemplate(shape, h.literal), render: (turns) => renderShape(shape, turns, h.squash), stops };
    }
    return `a system message after the first renders as ${JSON.stringify(expected.slice(0, 160))}`;
}
