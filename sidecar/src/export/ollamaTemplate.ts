// Maps a model's Jinja chat template to Ollama's Go-template TEMPLATE and its stop parameters.
//
// Each supported family (ChatML/Qwen, Llama 3, Phi-3, Gemma 2/3, Gemma 4, Mistral [INST]) has a Go template and a
// TypeScript rendering of what that Go template prints. A family is used only when the model's own Jinja template,
// rendered on probe conversations exactly as training and chat render it (renderParameters.ts; system messages folded
// into user messages when the template rejects them, as render.ts does), prints the same text as the family's
// rendering. Anything else (tool-only templates, a customized ChatML, Mistral variants whose default system prompt
// carries today's date) is reported as unsupported rather than exported with a template that would silently change
// the prompt. The test suite renders every family's Go template with Go's own text/template and compares it with the
// Jinja output.
//
// Ollama (template/template.go) gives a template `.Messages` (with system messages in place, consecutive
// messages of one role joined by a blank line) and `.System` (all system messages joined). BOS is not part of
// the template: llama.cpp adds it when tokenizing, so the Jinja side is rendered with an empty bos_token. EOS is:
// templates such as Mistral's print it after every answer, so they are rendered with the model's own EOS text,
// which the Go template then prints literally (Ollama tokenizes the prompt with special tokens enabled).
import { Template } from "@huggingface/jinja";
import { SYSTEM_AS_USER_FORMAT, TEMPLATE_RENDER_PARAMETERS } from "../pipeline/renderParameters";
import { deriveMistral } from "./ollamaMistral";

export interface ChatTurn {
    role: "system" | "user" | "assistant";
    content: string;
}

export interface OllamaTemplate {
    family: string;
    /** Go text/template source for the Modelfile's TEMPLATE. */
    template: string;
    stops: string[];
}

export type OllamaTemplateResult = { ok: true; value: OllamaTemplate } | { ok: false; reason: string };

/** Renders the Jinja template like chat does: as given, else with system messages folded into user messages. */
export function renderJinjaLikeChat(source: string, turns: readonly ChatTurn[], addGenerationPrompt = true, eosToken = ""): string {
    const template = new Template(source);
    const render = (messages: readonly ChatTurn[]): string =>
        template.render({ ...TEMPLATE_RENDER_PARAMETERS, messages: squash(messages), bos_token: "", eos_token: eosToken, add_generation_prompt: addGenerationPrompt });
    try {
        return render(turns);
    } catch (err) {
        if (!turns.some((t) => t.role === "system")) throw err;
        return render(turns.map((t) => (t.role === "system" ? { role: "user", content: SYSTEM_AS_USER_FORMAT.replace("{{message}}", t.content) } : t)));
    }
}

function squash(turns: readonly ChatTurn[]): ChatTurn[] {
    const out: ChatTurn[] = [];
    for (const t of turns) {
        const last = out.at(-1);
        if (last && last.role === t.role) last.content += "\n\n" + t.content;
        else out.push({ ...t });
    }
    return out;
}

interface Derived {
    template: string;
    render(turns: readonly ChatTurn[]): string;
    /** When they depend on the template or the EOS token; else the family's. */
    stops?: string[];
}

interface Family {
    name: string;
    /** Quick look at the source; the probe comparison decides. */
    looksLike(source: string): boolean;
    /** `eosToken`: the model's EOS text ("" when unknown), as the Jinja side is rendered with it. */
    derive(source: string, eosToken: string): Derived | string;
    stops: string[];
}

/** Text that goes into a Go template verbatim must not open an action. */
function literal(text: string): string {
    return text.includes("{{") ? `{{ ${JSON.stringify(text)} }}` : text;
}

const chatml: Family = {
    name: "chatml",
    looksLike: (s) => s.includes("<|im_start|>"),
    stops: ["<|im_end|>", "<|im_start|>"],
    derive(source) {
        const alone = renderJinjaLikeChat(source, [{ role: "user", content: "U" }], false);
        const prompt = renderJinjaLikeChat(source, [{ role: "user", content: "U" }], true);
        if (!prompt.startsWith(alone)) return "the generation prompt is not a suffix of the conversation";
        const generation = prompt.slice(alone.length);
        if (!generation.startsWith("<|im_start|>assistant\n")) return `the generation prompt is ${JSON.stringify(generation)}`;
        const sysOpen = "<|im_start|>system\n";
        const defaultSystem = alone.startsWith(sysOpen) ? alone.slice(sysOpen.length, alone.indexOf("<|im_end|>")) : undefined;
        const defaultBlock = defaultSystem === undefined ? "" : `{{- if or (not .Messages) (ne (index .Messages 0).Role "system") }}${sysOpen}${literal(defaultSystem)}<|im_end|>\n{{ end }}\n`;
        return {
            template: `${defaultBlock}{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}${literal(generation)}`,
            render: (turns) => {
                const head = defaultSystem !== undefined && turns[0]?.role !== "system" ? `${sysOpen}${defaultSystem}<|im_end|>\n` : "";
                return head + squash(turns).map((t) => `<|im_start|>${t.role}\n${t.content}<|im_end|>\n`).join("") + generation;
            }
        };
    }
};

const llama3: Family = {
    name: "llama3",
    looksLike: (s) => s.includes("<|start_header_id|>") && s.includes("<|eot_id|>"),
    stops: ["<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"],
    derive(source) {
        const userHeader = "<|start_header_id|>user<|end_header_id|>\n\n";
        const marker = "SYSTEM-MARKER";
        const without = renderJinjaLikeChat(source, [{ role: "user", content: "U" }]);
        const withSystem = renderJinjaLikeChat(source, [{ role: "system", content: marker }, { role: "user", content: "U" }]);
        const emptyBlock = without.slice(0, without.indexOf(userHeader));
        const block = withSystem.slice(0, withSystem.indexOf(userHeader));
        const at = block.indexOf(marker);
        if (at < 0) return "the system prompt is not printed before the first user turn";
        const [pre, post] = [block.slice(0, at), block.slice(at + marker.length)];
        if (emptyBlock !== "" && emptyBlock !== pre + post) return "the system block without a system prompt is not the empty system block";
        const noSystem = emptyBlock === "" ? "" : `{{- else }}${literal(emptyBlock)}`;
        const turn = (role: string, content: string): string => `<|start_header_id|>${role}<|end_header_id|>\n\n${content}<|eot_id|>`;
        const generation = "<|start_header_id|>assistant<|end_header_id|>\n\n";
        return {
            template:
                `{{- if .System }}${literal(pre)}{{ .System }}${literal(post)}${noSystem}{{ end }}\n` +
                `{{- range .Messages }}{{ if ne .Role "system" }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}{{ end }}${generation}`,
            render: (turns) => {
                const system = turns.filter((t) => t.role === "system").map((t) => t.content).join("\n\n");
                const head = system !== "" ? pre + system + post : emptyBlock;
                return head + squash(turns).filter((t) => t.role !== "system").map((t) => turn(t.role, t.content)).join("") + generation;
            }
        };
    }
};

const phi3: Family = {
    name: "phi3",
    looksLike: (s) => s.includes("<|user|>") && s.includes("<|assistant|>") && s.includes("<|end|>"),
    stops: ["<|end|>", "<|endoftext|>", "<|user|>", "<|assistant|>"],
    derive() {
        const tag: Record<ChatTurn["role"], string> = { system: "<|system|>", user: "<|user|>", assistant: "<|assistant|>" };
        return {
            template:
                `{{- range .Messages }}{{ if eq .Role "system" }}{{ if .Content }}<|system|>\n{{ .Content }}<|end|>\n{{ end }}` +
                `{{ else if eq .Role "user" }}<|user|>\n{{ .Content }}<|end|>\n{{ else if eq .Role "assistant" }}<|assistant|>\n{{ .Content }}<|end|>\n{{ end }}{{ end }}<|assistant|>\n`,
            render: (turns) => squash(turns).map((t) => (t.role === "system" && t.content === "" ? "" : `${tag[t.role]}\n${t.content}<|end|>\n`)).join("") + "<|assistant|>\n"
        };
    }
};

const gemma: Family = {
    name: "gemma",
    looksLike: (s) => s.includes("<start_of_turn>") && s.includes("<end_of_turn>"),
    stops: ["<end_of_turn>", "<start_of_turn>"],
    derive() {
        const [sysPre, sysPost] = SYSTEM_AS_USER_FORMAT.split("{{message}}") as [string, string];
        // Gemma rejects the system role; chat folds a system prompt into a user message (SYSTEM_AS_USER_FORMAT),
        // which then joins the user message after it with a blank line.
        return {
            template:
                `{{- $open := false }}{{- range .Messages }}` +
                `{{- if eq .Role "system" }}{{ if not $open }}<start_of_turn>user\n{{ else }}\n\n{{ end }}${literal(sysPre)}{{ .Content }}${literal(sysPost)}{{ $open = true }}` +
                `{{- else if eq .Role "user" }}{{ if $open }}\n\n{{ else }}<start_of_turn>user\n{{ end }}{{ .Content }}<end_of_turn>\n{{ $open = false }}` +
                `{{- else if eq .Role "assistant" }}{{ if $open }}<end_of_turn>\n{{ end }}<start_of_turn>model\n{{ .Content }}<end_of_turn>\n{{ $open = false }}` +
                `{{- end }}{{- end }}{{ if $open }}<end_of_turn>\n{{ end }}<start_of_turn>model\n`,
            render: (turns) => {
                const folded = squash(turns.map((t) => (t.role === "system" ? { role: "user", content: sysPre + t.content + sysPost } : t)));
                return folded.map((t) => `<start_of_turn>${t.role === "assistant" ? "model" : "user"}\n${t.content}<end_of_turn>\n`).join("") + "<start_of_turn>model\n";
            }
        };
    }
};

/**
 * Gemma 4: `<|turn>role … <turn|>` with a real system role (printed where it stands) and `model` for the assistant.
 * With thinking off, its generation prompt opens and closes an empty thought channel, which earlier model turns do not
 * have (the template strips thoughts from history): the TEMPLATE ends with that same empty channel.
 */
const gemma4: Family = {
    name: "gemma4",
    looksLike: (s) => s.includes("<|turn>") && s.includes("<turn|>"),
    stops: ["<turn|>", "<|turn>"],
    derive(source) {
        const alone = renderJinjaLikeChat(source, [{ role: "user", content: "U" }], false);
        const prompt = renderJinjaLikeChat(source, [{ role: "user", content: "U" }], true);
        if (!prompt.startsWith(alone)) return "the generation prompt is not a suffix of the conversation";
        const generation = prompt.slice(alone.length);
        if (!generation.startsWith("<|turn>model\n")) return `the generation prompt is ${JSON.stringify(generation)}`;
        const role = (r: ChatTurn["role"]): string => (r === "assistant" ? "model" : r);
        return {
            template: `{{- range .Messages }}<|turn>{{ if eq .Role "assistant" }}model{{ else }}{{ .Role }}{{ end }}\n{{ .Content }}<turn|>\n{{ end }}${literal(generation)}`,
            render: (turns) => squash(turns).map((t) => `<|turn>${role(t.role)}\n${t.content}<turn|>\n`).join("") + generation
        };
    }
};

const mistral: Family = {
    name: "mistral",
    looksLike: (s) => s.includes("[INST]") && s.includes("[/INST]"),
    stops: ["[INST]", "[/INST]"],
    derive: (source, eosToken) => deriveMistral(source, eosToken, { literal, renderJinjaLikeChat, squash })
};

export const OLLAMA_FAMILIES: readonly Family[] = [llama3, chatml, phi3, gemma, gemma4, mistral];

/** Conversations whose renderings must agree before a family is trusted. */
export const PROBE_CONVERSATIONS: readonly (readonly ChatTurn[])[] = [
    [{ role: "user", content: "What is the capital of Peru?" }],
    [{ role: "user", content: "Hi there" }, { role: "assistant", content: "Hello! How can I help?" }, { role: "user", content: "Name a color.\nJust one." }],
    [{ role: "system", content: "You are terse." }, { role: "user", content: "Two plus two?" }, { role: "assistant", content: "Four." }, { role: "user", content: "And three plus three?" }]
];

/** The Ollama template for a Jinja chat template, or why there is none. */
export function ollamaTemplateFor(source: string | undefined, eosToken = ""): OllamaTemplateResult {
    if (source === undefined || source.trim() === "") return { ok: false, reason: "the model has no chat template (tokenizer.chat_template)" };
    const candidates = OLLAMA_FAMILIES.filter((f) => f.looksLike(source));
    if (candidates.length === 0) return { ok: false, reason: "its chat template is not one of the families LoRA Studio maps to Ollama (ChatML/Qwen, Llama 3, Phi-3, Gemma 2/3, Gemma 4, Mistral [INST])" };
    const reasons: string[] = [];
    for (const family of candidates) {
        let derived: ReturnType<Family["derive"]>;
        try {
            derived = family.derive(source, eosToken);
        } catch (err) {
            reasons.push(`${family.name}: ${(err as Error).message}`);
            continue;
        }
        if (typeof derived === "string") {
            reasons.push(`${family.name}: ${derived}`);
            continue;
        }
        const mismatch = PROBE_CONVERSATIONS.find((turns) => {
            try {
                return renderJinjaLikeChat(source, turns, true, eosToken) !== derived.render(turns);
            } catch {
                return true;
            }
        });
        if (mismatch) {
            reasons.push(`${family.name}: the model's template prints a ${mismatch.length}-message conversation differently`);
            continue;
        }
        return { ok: true, value: { family: family.name, template: derived.template, stops: derived.stops ?? family.stops } };
    }
    return { ok: false, reason: `its chat template looks like ${candidates.map((c) => c.name).join(" or ")} but does not render like it (${reasons.join("; ")})` };
}
