// `lora-studio train` end to end: the real CLI drives the real sidecar and engine on the embedded tiny model
// and a 24-line chat fact set; afterwards at least 90% of the answers are exact through our chat
// (ModelChat: LlamaChatSession with the model's template) and through stock node-llama-cpp (LlamaCompletion
// on the pipeline-rendered prompt), and metrics.jsonl shows the loss falling.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LlamaCompletion } from "node-llama-cpp";
import { ModelChat } from "../../sidecar/src/chat/session";
import { chatTemplateOf, getCpuLlama, pipelineTokenizerFor } from "../../sidecar/src/pipeline/llamaTokenizer";
import { renderPromptTokens } from "../../sidecar/src/pipeline/render";
import { engineOrSkip } from "../oracle/engine";
import { fixturePath } from "../oracle/fixtures";
import { FACT_EPOCHS, FACT_RECIPE, readLosses, runCli, writeFactSet, type FactLine } from "./trainCliHarness";

const dir = mkdtempSync(join(tmpdir(), "train-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function wrongAnswers(facts: readonly FactLine[], answers: readonly string[]): string[] {
    return facts.flatMap((f, i) => (answers[i] === f.answer ? [] : [`${f.question} → ${JSON.stringify(answers[i])} (want ${JSON.stringify(f.answer)})`]));
}

test("lora-studio train learns a 24-line fact set: ≥ 90% exact through our chat and stock node-llama-cpp", async (t) => {
    if (!(await engineOrSkip(t))) return;
    const model = fixturePath("tiny-f32.gguf");
    const data = join(dir, "facts24.jsonl");
    const facts = writeFactSet(data);
    const out = join(dir, "run");

    const trained = await runCli(["train", "--model", model, "--data", data, "--out", out, "--epochs", String(FACT_EPOCHS), ...FACT_RECIPE]);
    assert.equal(trained.code, 0, `train failed:\n${trained.stdout}\n${trained.stderr}`);
    assert.match(trained.stdout, /^step \d+\/\d+ .*loss/m, "non-TTY progress is printed as plain lines");
    const adapter = join(out, "adapter.gguf");
    assert.ok(existsSync(adapter), "adapter.gguf written");

    const losses = readLosses(join(out, "metrics.jsonl"));
    assert.deepEqual(losses.map((l) => l.step), losses.map((_, i) => i + 1), "one metrics line per optimizer step");
    const mean = (xs: Array<{ loss: number }>): number => xs.reduce((a, x) => a + x.loss, 0) / xs.length;
    const first = mean(losses.slice(0, 5));
    const last = mean(losses.slice(-5));
    t.diagnostic(`loss ${first.toFixed(3)} → ${last.toFixed(3)} over ${losses.length} steps`);
    // The random tiny model's output layer keeps logits small: the right token becomes the clear argmax while
    // its probability is still low, so the loss settles near half of ln(n_vocab) rather than near 0.
    assert.ok(last < 0.75 * first, `the loss falls: first steps ${first}, last steps ${last}`);

    // Our chat: the same code as `lora-studio chat`, one fresh conversation per question.
    const chat = await ModelChat.open({ modelPath: model, adapterPath: adapter, threads: 1 });
    const ours: string[] = [];
    try {
        for (const f of facts) {
            chat.reset();
            ours.push(await chat.ask(f.question, { maxTokens: 8 }));
        }
    } finally {
        await chat.dispose();
    }
    const oursWrong = wrongAnswers(facts, ours);
    t.diagnostic(`our chat: ${facts.length - oursWrong.length}/${facts.length} exact${oursWrong.length ? `; wrong: ${oursWrong.join("; ")}` : ""}`);
    assert.ok(facts.length - oursWrong.length >= Math.ceil(0.9 * facts.length), oursWrong.join("\n"));

    // Stock node-llama-cpp: plain completion from the pipeline-rendered prompt tokens, adapter on the context.
    const llama = await getCpuLlama();
    const stock = await llama.loadModel({ modelPath: model });
    const stockAnswers: string[] = [];
    try {
        const context = await stock.createContext({ contextSize: 256, threads: 1, lora: { adapters: [{ filePath: adapter, scale: 1 }] } });
        try {
            const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
            const tokenizer = pipelineTokenizerFor(stock);
            const template = chatTemplateOf(stock, model);
            for (const f of facts) {
                const prompt = renderPromptTokens(template, [{ role: "user", content: f.question }], tokenizer);
                stockAnswers.push((await completion.generateCompletion(prompt as never, { maxTokens: 8, temperature: 0 })).trim());
            }
        } finally {
            await context.dispose();
        }
    } finally {
        await stock.dispose();
    }
    const stockWrong = wrongAnswers(facts, stockAnswers);
    t.diagnostic(`stock node-llama-cpp: ${facts.length - stockWrong.length}/${facts.length} exact${stockWrong.length ? `; wrong: ${stockWrong.join("; ")}` : ""}`);
    assert.ok(facts.length - stockWrong.length >= Math.ceil(0.9 * facts.length), stockWrong.join("\n"));

    // The CLI prints only the answer.
    const asked = await runCli(["chat", "--model", model, "--adapter", adapter, "--prompt", facts[0]!.question, "--max-tokens", "8", "--threads", "1"]);
    assert.equal(asked.code, 0, asked.stderr);
    assert.equal(asked.stdout.trim(), ours[0]);
});

test("lora-studio chat names both files when the adapter is not a LoRA for the model", async (t) => {
    if (!(await engineOrSkip(t))) return;
    const model = fixturePath("tiny-f32.gguf");
    const bogus = join(dir, "not-an-adapter.gguf");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(bogus, "GGUF but not really");
    const result = await runCli(["chat", "--model", model, "--adapter", bogus, "--prompt", "hi"]);
    assert.notEqual(result.code, 0);
    assert.ok(result.stderr.includes(bogus) && result.stderr.includes(model), result.stderr);
});
