// `lora-studio chat`: asks the base model (plus an optional LoRA adapter) through node-llama-cpp with the
// model's own chat template. Prints only the answer; without --prompt, an interactive conversation.
// Its flags are chat/open's and chat/send's params (params/commands.ts), checked by the same schema as the RPC.
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { DEFAULT_CHAT_CONTEXT_SIZE, ModelChat, PromptTooLongError, type AskOptions } from "../chat/session";
import { CHAT_OPEN_PARAMS, CHAT_SEND_PARAMS } from "../params/commands";
import { optionsUsage, parseCliArgs } from "../params/cliArgs";
import type { CliCommand } from "./types";

const usage = `Usage: lora-studio chat --model M.gguf [--adapter A.gguf] [--prompt TEXT] [options]

Prints the model's answer to --prompt (greedy unless --temperature is set). Without --prompt, reads
questions from stdin in a conversation; "/reset" forgets it, an empty line or Ctrl+D quits.

Options:
${optionsUsage(CHAT_OPEN_PARAMS, CHAT_SEND_PARAMS)}`;

const CLI_PARAMS = { ...CHAT_OPEN_PARAMS, ...CHAT_SEND_PARAMS, message: { ...CHAT_SEND_PARAMS.message, required: false } } as const;

async function run(args: string[]): Promise<number> {
    const { values } = parseCliArgs(CLI_PARAMS, args, {
        limits: { cpus: availableParallelism() },
        // --max-tokens is bounded by the context the chat will have: --context-size, or the default.
        limitsFrom: (raw) => ({ contextSize: typeof raw.contextSize === "number" && Number.isInteger(raw.contextSize) ? raw.contextSize : DEFAULT_CHAT_CONTEXT_SIZE })
    });
    const contextSize = values.contextSize ?? DEFAULT_CHAT_CONTEXT_SIZE;
    const ask: AskOptions = {};
    if (values.maxTokens !== undefined) ask.maxTokens = values.maxTokens;
    if (values.temperature !== undefined) ask.temperature = values.temperature;
    if (values.topP !== undefined) ask.topP = values.topP;

    const chat = await ModelChat.open({
        modelPath: resolve(values.model),
        contextSize,
        ...(values.threads === undefined || values.threads === 0 ? {} : { threads: values.threads }),
        ...(values.adapter === undefined ? {} : { adapterPath: resolve(values.adapter) }),
        ...(values.system === undefined ? {} : { system: values.system })
    });
    for (const warning of chat.warnings) process.stderr.write(`warning: ${warning}\n`);
    const answer = async (question: string): Promise<string> => {
        const { answer: text, notice } = await chat.stream(question, ask);
        if (notice) process.stderr.write(`warning: ${notice}\n`);
        return text.trim();
    };
    try {
        if (values.message !== undefined) {
            process.stdout.write(`${await answer(values.message)}\n`);
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
                else {
                    try {
                        process.stdout.write(`${await answer(question)}\n`);
                    } catch (error) {
                        // A question longer than the context is refused; the conversation goes on.
                        if (!(error instanceof PromptTooLongError)) throw error;
                        process.stderr.write(`lora-studio chat: ${error.message}\n`);
                    }
                }
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
