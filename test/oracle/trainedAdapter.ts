// A LoRA adapter trained once on the embedded tiny model and a 24-fact chat set, shared by the chat, eval
// and export tests (and their E2E tests). Training it takes minutes on two cores, so it is cached under
// .cache/fixtures/facts-adapter/ keyed by the base model's bytes, the recipe and the facts; a lock
// directory keeps two test processes from training it at the same time.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { syntheticFacts } from "./facts";
import { fixturePath, fixturesDir } from "./fixtures";
import { repoRoot } from "./torchReference";

/** The measured recipe for the random tiny model (see test/integration/trainCliHarness.ts). */
const RECIPE = ["--lr", "2e-3", "--sequence-length", "128", "--threads", "2", "--epochs", "40"];
const FACT_COUNT = 24;

export interface FactsAdapter {
    /** tiny-f32.gguf, the base the adapter was trained on. */
    model: string;
    adapter: string;
    /** The chat-format training JSONL (one user question, one assistant answer per line). */
    data: string;
    facts: Array<{ question: string; answer: string }>;
}

function fileKey(path: string): string {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Trains (or reuses) the facts adapter. Throws with the CLI's output when training fails. */
export async function factsAdapter(): Promise<FactsAdapter> {
    const model = fixturePath("tiny-f32.gguf");
    const facts = syntheticFacts(FACT_COUNT).map((f) => ({ question: f.question, answer: f.answer }));
    const lines = facts.map((f) => JSON.stringify({ messages: [{ role: "user", content: f.question }, { role: "assistant", content: f.answer }] }));
    const dir = join(fixturesDir(), "facts-adapter");
    const data = join(dir, "facts24.jsonl");
    const adapter = join(dir, "run", "adapter.gguf");
    const stamp = join(dir, "stamp");
    const key = createHash("sha256").update(fileKey(model)).update(JSON.stringify(RECIPE)).update(lines.join("\n")).digest("hex");
    const fresh = (): boolean => existsSync(adapter) && existsSync(stamp) && readFileSync(stamp, "utf8") === key;
    if (fresh()) return { model, adapter, data, facts };

    mkdirSync(dir, { recursive: true });
    const lock = join(dir, ".lock");
    for (;;) {
        try {
            mkdirSync(lock);
            break;
        } catch {
            // Another process trains it; a lock older than 30 minutes belongs to a killed process.
            if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 30 * 60_000) rmSync(lock, { recursive: true, force: true });
            await sleep(2000);
            if (fresh()) return { model, adapter, data, facts };
        }
    }
    try {
        if (fresh()) return { model, adapter, data, facts };
        rmSync(join(dir, "run"), { recursive: true, force: true });
        writeFileSync(data, `${lines.join("\n")}\n`);
        const cli = join(repoRoot(), "bin", "lora-studio.mjs");
        const r = spawnSync(process.execPath, [cli, "train", "--model", model, "--data", data, "--out", join(dir, "run"), ...RECIPE], {
            cwd: repoRoot(),
            encoding: "utf8"
        });
        if (r.status !== 0) throw new Error(`training the facts adapter failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
        writeFileSync(`${stamp}.tmp`, key);
        renameSync(`${stamp}.tmp`, stamp);
        return { model, adapter, data, facts };
    } finally {
        rmSync(lock, { recursive: true, force: true });
    }
}
