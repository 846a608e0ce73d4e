// Ollama Modelfile (https://github.com/ollama/ollama/blob/main/docs/modelfile.md): FROM the base GGUF, ADAPTER the
// GGUF LoRA, TEMPLATE and stop PARAMETERs from the model's chat template (ollamaTemplate.ts), and SYSTEM when the
// training data had one. Paths are absolute, so `ollama create NAME -f Modelfile` works from any folder.
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { kvString, type GgufFile } from "../gguf";
import { writeFileAtomic } from "../training/atomicFile";
import { checkAdapterFitsBase, openGguf, readLoraAdapter } from "./adapter";
import { ollamaTemplateFor } from "./ollamaTemplate";

export interface OllamaOptions {
    model: string;
    adapter: string;
    /** The Modelfile's path. */
    out: string;
    /** The system prompt the training data used, if any. */
    system?: string;
}

export interface OllamaResult {
    modelfile: string;
    family: string | undefined;
    warnings: string[];
}

/** A Modelfile string argument: triple quotes unless the text itself contains them. */
function quoted(text: string): string {
    if (!text.includes('"""')) return `"""${text}"""`;
    return JSON.stringify(text);
}

export function renderModelfile(opts: { model: string; adapter: string; template?: string; stops?: string[]; system?: string }): string {
    const lines = [`FROM ${opts.model}`, `ADAPTER ${opts.adapter}`];
    if (opts.template !== undefined) lines.push(`TEMPLATE ${quoted(opts.template)}`);
    for (const stop of opts.stops ?? []) lines.push(`PARAMETER stop ${JSON.stringify(stop)}`);
    if (opts.system !== undefined && opts.system !== "") lines.push(`SYSTEM ${quoted(opts.system)}`);
    return `${lines.join("\n")}\n`;
}

/** The text of the vocabulary's EOS token ("" if it names none): templates such as Mistral's print it after each answer. */
function eosTokenText(base: GgufFile): string {
    const id = base.kv.get("tokenizer.ggml.eos_token_id");
    const tokens = base.kv.get("tokenizer.ggml.tokens");
    if (id === undefined || typeof id.value !== "number" || tokens?.type !== "array" || tokens.itemType !== "string") return "";
    return tokens.value[id.value] ?? "";
}

export function exportOllama(opts: OllamaOptions): OllamaResult {
    const adapter = readLoraAdapter(opts.adapter);
    const base = openGguf(opts.model, "base model");
    checkAdapterFitsBase(adapter, base);
    let source: string | undefined;
    try {
        source = kvString(base, "tokenizer.chat_template");
    } catch {
        source = undefined;
    }
    const mapped = ollamaTemplateFor(source, eosTokenText(base));
    const warnings: string[] = [];
    if (!mapped.ok) {
        warnings.push(`No TEMPLATE written: ${mapped.reason}. Ollama will fall back to its default template; add a TEMPLATE by hand so prompts match training.`);
    }
    const text = renderModelfile({
        model: resolve(opts.model),
        adapter: resolve(opts.adapter),
        ...(mapped.ok ? { template: mapped.value.template, stops: mapped.value.stops } : {}),
        ...(opts.system !== undefined ? { system: opts.system } : {})
    });
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileAtomic(opts.out, text);
    return { modelfile: opts.out, family: mapped.ok ? mapped.value.family : undefined, warnings };
}
