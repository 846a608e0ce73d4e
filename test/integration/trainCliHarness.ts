// Shared by the train-CLI tests: the real `bin/lora-studio.mjs` as a child process, a 24-fact chat set,
// and the training recipe chosen by measurement for the embedded tiny model.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { syntheticFacts } from "../oracle/facts";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { repoRoot } from "../oracle/torchReference";

export const CLI = join(repoRoot(), "bin", "lora-studio.mjs");

/**
 * Schema defaults except: the learning rate and the sequence length. The tiny model is random, so it
 * learns facts from nothing and needs a larger rate than QLoRA's 2e-4 on a pretrained model; shorter rows
 * give more optimizer steps for the same compute on 2 CI cores. Epochs chosen by measurement.
 */
export const FACT_RECIPE = ["--lr", "2e-3", "--sequence-length", "128", "--threads", "2"];
export const FACT_EPOCHS = 40;

export interface FactLine {
    question: string;
    answer: string;
}

/**
 * `count` invented one-word facts (test/oracle/facts.ts, the set the learning test measured) as a chat-format
 * JSONL file without a system prompt. samples/facts.jsonl has 28 lines with multi-word answers and a long
 * system prompt: several times the tokens to learn, too slow for CI's two cores.
 */
export function writeFactSet(path: string, count = 24): FactLine[] {
    const facts = syntheticFacts(count);
    const lines = facts.map((f) => JSON.stringify({ messages: [{ role: "user", content: f.question }, { role: "assistant", content: f.answer }] }));
    writeFileSync(path, `${lines.join("\n")}\n`);
    return facts;
}

export interface CliResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

/** Runs the CLI; `onLine` sees each stdout line as it comes (e.g. to send SIGINT at some step). */
export function runCli(args: string[], onLine?: (line: string, child: ReturnType<typeof spawn>) => void): Promise<CliResult> {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: repoRoot(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    createInterface({ input: child.stdout! }).on("line", (line) => {
        stdout += `${line}\n`;
        onLine?.(line, child);
    });
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((settle, fail) => {
        child.on("error", fail);
        child.on("close", (code, signal) => settle({ code, signal, stdout, stderr }));
    });
}

export function readLosses(metricsPath: string): Array<{ step: number; loss: number }> {
    return readFileSync(metricsPath, "utf8").split("\n").filter((l) => l !== "").map((l) => {
        const r = JSON.parse(l) as { step: number; loss: number };
        return { step: r.step, loss: r.loss };
    });
}
