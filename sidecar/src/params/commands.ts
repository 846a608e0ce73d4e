// The parameters of chat, eval, export, validate and train, each declared once (schema.ts explains the shape): the RPC
// handlers (rpc/chatHandlers.ts, evalHandlers.ts, exportHandlers.ts) and the CLI commands (cli/chat.ts, eval.ts,
// export.ts, validate.ts, train.ts) check against these same objects.
import { runConfigEnum, runConfigInteger, runConfigNumber } from "./runConfigFields";
import type { ParamSchema } from "./schema";

/** Explicit thread counts above this machine's logical CPUs only make ggml's threads wait on each other. */
const threads = {
    kind: "integer", min: 0, max: { limit: "cpus", describe: "this machine's logical CPUs" }, cap: 1024, flag: "threads", placeholder: "T",
    describe: "CPU threads; 0 or absent = the measured default (docs/reliability.md#threads)"
} as const;

const MAX_CONTEXT_TOKENS = 1 << 20;
const MAX_TEXT_CHARS = 1 << 20;

/** chat/open, and the model half of `lora-studio chat`. */
export const CHAT_OPEN_PARAMS = {
    model: { kind: "path", required: true, flag: "model", placeholder: "M.gguf", describe: "base model (GGUF)" },
    adapter: { kind: "path", flag: "adapter", placeholder: "A.gguf", describe: "LoRA adapter trained on that base model" },
    system: { kind: "string", allowEmpty: true, maxLength: MAX_TEXT_CHARS, flag: "system", placeholder: "TEXT", describe: "system prompt (use the one your training data had, if any)" },
    contextSize: { kind: "integer", min: 64, max: MAX_CONTEXT_TOKENS, flag: "context-size", placeholder: "N", describe: "context size in tokens (default 1024)" },
    threads,
    requestId: { kind: "string", maxLength: 256, describe: "lets chat/stop abort the load" }
} as const satisfies ParamSchema;

/** chat/send, and the question half of `lora-studio chat`. maxTokens is bounded by the session's context size. */
export const CHAT_SEND_PARAMS = {
    sessionId: { kind: "string", maxLength: 256, required: true, describe: "the session chat/open returned" },
    requestId: { kind: "string", maxLength: 256, required: true, describe: "names the chat/token stream and chat/stop" },
    message: { kind: "string", maxLength: MAX_TEXT_CHARS, required: true, flag: "prompt", placeholder: "TEXT", describe: "one question; print the answer and exit (without it: a conversation on stdin)" },
    maxTokens: { kind: "integer", min: 1, max: { limit: "contextSize", describe: "the context size" }, cap: MAX_CONTEXT_TOKENS, flag: "max-tokens", placeholder: "N", describe: "longest answer in tokens (default: 128 in the CLI, 256 over RPC)" },
    temperature: { kind: "number", min: 0, max: 10, flag: "temperature", placeholder: "T", describe: "0 = greedy (default)" },
    topP: { kind: "number", min: 0, max: 1, flag: "top-p", placeholder: "P", describe: "nucleus sampling threshold" }
} as const satisfies ParamSchema;

/** eval/run and `lora-studio eval`. maxTokens is re-checked against the model's context once it is loaded. */
export const EVAL_RUN_PARAMS = {
    evalId: { kind: "string", maxLength: 256, required: true, describe: "names the eval/progress stream and eval/cancel" },
    runId: { kind: "string", maxLength: 256, describe: "a run under the workspace's .lora-studio/runs/" },
    runDirectory: { kind: "path", flag: "run", placeholder: "DIR", describe: "a run folder: its base model, adapter.gguf and (without --data) validation split" },
    model: { kind: "path", flag: "model", placeholder: "M.gguf", describe: "base model" },
    adapter: { kind: "path", flag: "adapter", placeholder: "A.gguf", describe: "LoRA adapter trained on that base model" },
    data: { kind: "path", flag: "data", placeholder: "D.jsonl", describe: "held-out examples, any dataset format" },
    maxTokens: { kind: "integer", min: 1, max: { limit: "contextSize", describe: "the model's context size" }, cap: MAX_CONTEXT_TOKENS, flag: "max-tokens", placeholder: "N", describe: "longest answer in tokens (default 128)" },
    limit: { kind: "integer", min: 1, max: 10_000_000, flag: "limit", placeholder: "N", describe: "only the first N examples" },
    outDir: { kind: "path", flag: "out", placeholder: "DIR", describe: "where to write the report files" },
    threads,
    json: { kind: "boolean", rpc: false, flag: "json", describe: "print the report as JSON instead of the table" }
} as const satisfies ParamSchema;

/** export/run and `lora-studio export`. */
export const EXPORT_RUN_PARAMS = {
    format: { kind: "enum", values: ["gguf-lora", "merged", "ollama", "peft", "axolotl"], required: true, flag: "format", placeholder: "FORMAT", describe: "gguf-lora, merged, ollama, peft or axolotl" },
    runId: { kind: "string", maxLength: 256, describe: "a run under the workspace's .lora-studio/runs/" },
    runDirectory: { kind: "path", flag: "run", placeholder: "RUN_DIR", describe: "a run folder (its adapter.gguf and config.json's base model); needed by axolotl" },
    adapter: { kind: "path", flag: "adapter", placeholder: "A.gguf", describe: "the trained GGUF LoRA (a run's adapter.gguf)" },
    model: { kind: "path", flag: "model", placeholder: "M.gguf", describe: "the base model it was trained on" },
    out: { kind: "path", flag: "out", placeholder: "PATH", describe: "where to write (never one of the inputs)" },
    type: { kind: "enum", values: ["f32", "f16", "q8_0", "q4_0", "q4_k_m"], flag: "type", placeholder: "TYPE", describe: "merged only: f32, f16 (default), q8_0, q4_0, q4_k_m" },
    system: { kind: "string", allowEmpty: true, maxLength: MAX_TEXT_CHARS, flag: "system", placeholder: "TEXT", describe: "ollama only: the SYSTEM prompt your training data used" },
    baseModelId: { kind: "string", maxLength: 1024, flag: "base-model-id", placeholder: "ID", describe: "peft only: base_model_name_or_path (default: from the GGUF metadata)" },
    dtype: { kind: "enum", values: ["f32", "f16", "bf16"], flag: "dtype", placeholder: "DTYPE", describe: "peft only: f32 (exact, default), f16 or bf16" },
    baseModelRepo: { kind: "string", maxLength: 1024, flag: "base-model", placeholder: "HF_REPO", describe: "axolotl only: base_model, the Hugging Face repository (default: from the GGUF metadata)" },
    gpus: { kind: "integer", min: 1, max: 4096, flag: "gpus", placeholder: "N", describe: "axolotl only: GPUs to launch on (default 1)" },
    strategy: { kind: "enum", values: ["deepspeed-zero2", "deepspeed-zero3", "fsdp"], flag: "strategy", placeholder: "S", describe: "axolotl only: deepspeed-zero2 (default), deepspeed-zero3 or fsdp" },
    overwrite: { kind: "boolean", flag: "force", describe: "replace an existing file or folder at --out (never an input)" }
} as const satisfies ParamSchema;

/** `lora-studio import-adapter`: a PEFT folder → a GGUF LoRA for a base model (sidecar/src/importAdapter/). */
export const IMPORT_ADAPTER_PARAMS = {
    peft: { kind: "path", required: true, flag: "peft", placeholder: "DIR", describe: "PEFT adapter folder: adapter_config.json + adapter_model.safetensors (f32, f16 or bf16)" },
    model: { kind: "path", required: true, flag: "model", placeholder: "BASE.gguf", describe: "the base model, as GGUF (any quantization): every shape is checked against it" },
    out: { kind: "path", required: true, flag: "out", placeholder: "A.gguf", describe: "the GGUF LoRA to write (never an input; written whole or not at all)" },
    overwrite: { kind: "boolean", flag: "force", describe: "replace an existing file at --out (never an input)" }
} as const satisfies ParamSchema;

/** `lora-studio validate` (the language server validates documents, not paths). */
export const VALIDATE_PARAMS = {
    format: { kind: "enum", values: ["auto", "chat", "instruction", "prompt-completion", "text", "qa"], flag: "format", placeholder: "F", describe: "line format (default auto: detected per file)" },
    json: { kind: "boolean", flag: "json", describe: "print {\"files\":[{\"path\",\"diagnostics\":[…]}]} (positions 1-based, end exclusive)" },
    maxDiagnostics: { kind: "integer", min: 1, max: 1_000_000, flag: "max-diagnostics", placeholder: "N", describe: "cap per file (default 1000); one summary diagnostic counts the rest" },
    // Token checks (LS301, LS302), as the language server runs them with loraStudio.baseModel set.
    model: { kind: "path", flag: "model", placeholder: "M.gguf", describe: "base model: its tokenizer finds examples longer than the sequence length (LS301, LS302)" },
    sequenceLength: { kind: "integer", min: 16, max: 131072, flag: "sequence-length", placeholder: "N", describe: "with --model: the training sequence length (default 512, as in run configs)" },
    truncation: { kind: "enum", values: ["drop", "truncate-left", "truncate-right", "fail"], flag: "truncation", placeholder: "POLICY", describe: "with --model: what training does with longer examples (default drop)" }
} as const satisfies ParamSchema;

/** `lora-studio import`: CSV/TSV/Parquet/JSON/JSONL rows → chat JSONL (sidecar/src/import/). */
export const IMPORT_PARAMS = {
    out: { kind: "path", flag: "out", placeholder: "FILE.jsonl", describe: "chat JSONL to write (never the input; written whole or not at all)" },
    format: { kind: "enum", values: ["csv", "tsv", "parquet", "json", "jsonl"], flag: "format", placeholder: "F", describe: "input format (default: from the extension, then the first bytes)" },
    mapping: { kind: "string", maxLength: MAX_TEXT_CHARS, flag: "mapping", placeholder: "PRESET|JSON", describe: "auto (default), sciq, pubmedqa, alpaca, dolly, sharegpt, openai, or JSON {\"preset\",\"system\",\"user\",\"assistant\"}" },
    system: { kind: "string", allowEmpty: true, maxLength: MAX_TEXT_CHARS, flag: "system", placeholder: "TEXT", describe: "system prompt of every example (a template: {column} allowed)" },
    user: { kind: "string", maxLength: MAX_TEXT_CHARS, flag: "user", placeholder: "TEMPLATE", describe: "user message template, e.g. \"Question: {question}\\nContext: {support}\"" },
    assistant: { kind: "string", maxLength: MAX_TEXT_CHARS, flag: "assistant", placeholder: "TEMPLATE", describe: "assistant message template, e.g. \"{answer}\"" },
    split: { kind: "number", min: 0, max: 1, minExclusive: true, maxExclusive: true, flag: "split", placeholder: "X", describe: "fraction of rows written to --held-out instead" },
    heldOut: { kind: "path", flag: "held-out", placeholder: "FILE.jsonl", describe: "where --split writes the held-out rows" },
    seed: { kind: "integer", min: 0, max: 4294967295, flag: "seed", placeholder: "N", describe: "split seed (default 0): the same seed, the same split" },
    preview: { kind: "integer", min: 1, max: 1000, flag: "preview", placeholder: "N", describe: "print the first N examples as they would be written; write nothing" }
} as const satisfies ParamSchema;

/** The mapping fields import/preview and import/run share with `lora-studio import` (its --mapping preset is `preset`). */
const IMPORT_MAPPING_RPC_PARAMS = {
    file: { kind: "path", required: true, describe: "the input file" },
    format: IMPORT_PARAMS.format,
    preset: { kind: "enum", values: ["auto", "openai", "sharegpt", "pubmedqa", "sciq", "dolly", "alpaca"], describe: "auto (default) or a preset" },
    system: IMPORT_PARAMS.system,
    user: IMPORT_PARAMS.user,
    assistant: IMPORT_PARAMS.assistant
} as const satisfies ParamSchema;

/** import/preview. */
export const IMPORT_PREVIEW_PARAMS = {
    ...IMPORT_MAPPING_RPC_PARAMS,
    rows: { kind: "integer", min: 1, max: 1000, describe: "rows to convert (default 5)" }
} as const satisfies ParamSchema;

/** import/run. */
export const IMPORT_RUN_PARAMS = {
    ...IMPORT_MAPPING_RPC_PARAMS,
    importId: { kind: "string", maxLength: 256, required: true, describe: "names the import/progress stream and import/cancel" },
    out: { ...IMPORT_PARAMS.out, required: true },
    split: IMPORT_PARAMS.split,
    heldOut: IMPORT_PARAMS.heldOut,
    seed: IMPORT_PARAMS.seed,
    overwrite: { kind: "boolean", describe: "replace an existing out or heldOut file (never the input)" }
} as const satisfies ParamSchema;

/**
 * `lora-studio train`. A CLI-only schema: its RPC, run/start, carries a run config, which the run-config schema checks.
 * Fields named as in a run config are that config's fields, with the run-config schema's bounds (runConfigFields.ts).
 */
export const TRAIN_PARAMS = {
    config: { kind: "path", flag: "config", placeholder: "FILE", describe: "a *.lora.json run config (the flags below override its values)" },
    model: { kind: "path", flag: "model", placeholder: "M.gguf", describe: "base model" },
    data: { kind: "path", flag: "data", placeholder: "D.jsonl", describe: "training data" },
    out: { kind: "path", flag: "out", placeholder: "DIR", describe: "run directory (empty or new; anywhere, unlike a config's \"output\", which stays in the workspace)" },
    validationData: { kind: "path", flag: "validation-data", placeholder: "V.jsonl", describe: "separate validation data" },
    validationSplit: runConfigNumber("validationSplit", { flag: "validation-split", placeholder: "X", describe: "fraction of --data held out for validation" }),
    epochs: runConfigInteger("epochs", { flag: "epochs", placeholder: "N", describe: "passes over the data (with --resume: train to N in all)" }),
    rank: runConfigInteger("rank", { flag: "rank", placeholder: "R", describe: "LoRA rank" }),
    alpha: runConfigNumber("alpha", { flag: "alpha", placeholder: "A", describe: "LoRA alpha (scale alpha / rank)" }),
    dropout: runConfigNumber("dropout", { flag: "dropout", placeholder: "P", describe: "dropout on the LoRA input" }),
    learningRate: runConfigNumber("learningRate", { flag: "lr", placeholder: "X", describe: "learning rate" }),
    seed: runConfigInteger("seed", { flag: "seed", placeholder: "S", describe: "shuffle, split, init and dropout seed" }),
    sequenceLength: runConfigInteger("sequenceLength", { flag: "sequence-length", placeholder: "L", describe: "tokens per micro-batch" }),
    gradAccum: runConfigInteger("gradAccum", { flag: "grad-accum", placeholder: "K", describe: "micro-batches per optimizer step" }),
    checkpointEvery: runConfigInteger("checkpointEvery", { flag: "checkpoint-every", placeholder: "N", describe: "optimizer steps between checkpoints" }),
    checkpointsToKeep: runConfigInteger("checkpointsToKeep", { flag: "checkpoints-to-keep", placeholder: "K", describe: "checkpoints kept on disk, newest first" }),
    truncation: runConfigEnum("truncation", { flag: "truncation", placeholder: "POLICY", describe: "examples longer than the sequence length: drop, truncate-left, truncate-right or fail; each is counted in the summary" }),
    threads: runConfigInteger("threads", { flag: "threads", placeholder: "T", describe: "CPU threads; 0 = all cores" }),
    quantizeBase: runConfigEnum("quantizeBase", { flag: "quantize-base", placeholder: "TYPE", describe: "none, q4_0, q4_k_m or q8_0: train on a cached quantized copy of an F32/F16/BF16 base" }),
    // Checked by presets.ts, whose refusal lists the presets.
    preset: { kind: "string", maxLength: 64, flag: "preset", placeholder: "NAME", describe: "gpu-6gb, gpu-12gb, gpu-24gb or cpu: sequence length, accumulation, rank and 4-bit base for that hardware (the flags above override it)" },
    resume: { kind: "path", flag: "resume", placeholder: "DIR", describe: "continue the run in DIR from its newest checkpoint (takes only --epochs)" }
} as const satisfies ParamSchema;
