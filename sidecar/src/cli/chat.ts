// `lora-studio chat`: asks the base model (plus an optional LoRA adapter) through node-llama-cpp with the
// model's own chat template. Prints only the answer; without --prompt, an interactive conversation.
import { resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { ModelChat, type AskOptions } from "../chat/session";
import { UsageError, type CliCommand } from "./types";

const usage = `Usage: lora-studio chat --model M.gguf [--adapter A.gguf] [--prompt TEXT] [options]

Prints the model's answer to --prompt (greedy unless --temperature is set). Without --prompt, reads
questions from stdin in a conversation; "/reset" forgets it, an empty line or Ctrl+D quits.

Options:
  --model M.gguf       base model
  --adapter A.gguf     LoRA adapter trained on that base model
  --prompt TEXT        one question; print the answer and exit
  --system TEXT        system prompt (use the one your training data had, if any)
  --max-tokens N       longest answer (default 128)
  --temperature T      0 = greedy (default)
  --top-p P            nucleus sampling threshold
  --threads T          CPU threads (default: node-llama-cpp's choice)`;

function numberOption(values: Record<string, unknown>, flag: string): number | undefined {
    const text = values[flag];
    if (typeof text !== "string") return undefined;
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got ${JSON.stringify(text)}`);
    return n;
}

async function run(args: string[]): Promise<number> {
    let values: Record<string, string | boolean | undefined>;
    try {
        values = parseArgs({
            args,
            options: {
                model: { type: "string" }, adapter: { type: "string" }, prompt: { type: "string" }, system: { type: "string" },
                "max-tokens": { type: "string" }, threads: { type: "string" }, temperature: { type: "string" }, "top-p": { type: "string" }
            }
        }).values;
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    if (typeof values.model !== "string") throw new UsageError("--model is required");
    const ask: AskOptions = {};
    const maxTokens = numberOption(values, "max-tokens");
    const temperature = numberOption(values, "temperature");
    const topP = numberOption(values, "top-p");
    if (maxTokens !== undefined) ask.maxTokens = maxTokens;
    if (temperature !== undefined) ask.temperature = temperature;
    if (topP !== undefined) ask.topP = topP;

    const threads = numberOption(values, "threads");
    const chat = await ModelChat.open({
        modelPath: resolve(values.model),
        ...(threads === undefined ? {} : { threads }),
        ...(typeof values.adapter === "string" ? { adapterPath: resolve(values.adapter) } : {}),
        ...(typeof values.system === "string" ? { system: values.system } : {})
    });
    try {
        if (typeof values.prompt === "string") {
            process.stdout.write(`${await chat.ask(values.prompt, ask)}\n`);
            return 0;
        }
        // The async iterator queues lines that arrive while the model answers; rl.question() would drop them
        // (a piped file of questions got one answer and then silence).
        const tty = process.stdin.isTTY === true;
        const rl = createInterface({ input: process.stdin, terminal: tty, ...(tty ? { output: process.stdout } : {}) });
        const prompt = () => {
            if (!tty) return;
            rl.setPrompt("> ");
            rl.prompt();
        };
        try {
            prompt();
            for await (const line of rl) {
                const question = line.trim();
                if (question === "") break;
                if (question === "/reset") chat.reset();
                else process.stdout.write(`${await chat.ask(question, ask)}\n`);
                prompt();
            }
        } finally {
            rl.close();
        }
        return 0;
    } finally {
        await chat.dispose();
    }
}

export const chatCommand: CliCommand = {
    summary: "ask a base model (plus a LoRA adapter) a question; interactive without --prompt",
    usage,
    run
};
