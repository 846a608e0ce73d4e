// End-to-end chat parity: a real LlamaChatSession (weights loaded, prompt evaluated) set up the way our chat is
// (createChatWrapperForModel + chatHistoryFor) evaluates exactly the tokens the pipeline trains on before the
// reply. Models: small random-weight GGUFs with each template's real tokenizer (sidecar/src/tinyModel).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { LlamaChatSession, type LlamaContext, type LlamaModel } from "node-llama-cpp";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { chatHistoryFor, createChatWrapperForModel } from "../../sidecar/src/pipeline/chatWrapper";
import { chatTemplateOf, getCpuLlama, pipelineTokenizerFor } from "../../sidecar/src/pipeline/llamaTokenizer";
import { renderConversation } from "../../sidecar/src/pipeline/render";
import type { ChatMessage } from "../../sidecar/src/pipeline/types";
import { readGguf, readTensorBytes, writeGguf } from "../../sidecar/src/gguf";
import { applyFixtureTokens, fixtureCacheDir, templateFixtures, type TemplateFixture } from "../unit/pipeline/support/templateFixtures";

function tinyModelFor(fixture: TemplateFixture): string {
    const out = join(fixtureCacheDir(), `tiny-${fixture.vocab}+${fixture.template}${fixture.renames ? `+${fixture.name}-tokens` : ""}.gguf`);
    if (!existsSync(out)) {
        makeTinyModel({ out, vocab: fixture.vocab, template: fixture.template, quant: "f16", seed: 7, shape: { nLayer: 1, nEmbd: 256, nHead: 2, nHeadKv: 1, nFf: 256, nCtx: 1024 } });
        if (fixture.renames || fixture.eosTokenId !== undefined) {
            // The family's own special tokens (Qwen3's <think>…) on the bundled relative's vocabulary, as the fixture has them.
            const made = readGguf(out);
            const kv = new Map(made.kv);
            applyFixtureTokens(kv, fixture, out);
            writeGguf(out, { kv, alignment: made.alignment, tensors: made.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type, data: () => readTensorBytes(made, t.name) })) });
        }
    }
    return out;
}

const conversations: Record<string, ChatMessage[]> = {
    "no system prompt": [
        { role: "user", content: "What is the capital of Freedonia?" },
        { role: "assistant", content: "Fredonia City." }
    ],
    "system prompt and two turns": [
        { role: "system", content: "Answer in one sentence." },
        { role: "user", content: "Name a prime." },
        { role: "assistant", content: "Seven is prime." },
        { role: "user", content: "And an even one?" },
        { role: "assistant", content: "Two." }
    ]
};

// Full models are slow to generate for big vocabularies (Gemma's 262k rows), so this end-to-end check runs on the
// embedded model's template (Phi-3.5), on ChatML (Qwen2.5) and on Qwen3 (the empty think block chat sends before a
// reply with thinking off); the other templates are covered through generateContextState in
// pipeline-templates.test.ts. f16 because Q4_0 models crash node-llama-cpp 3.22.1's CPU prebuilt on AVX-512 machines
// (SIGSEGV on the first evaluation).
const sessionFixtures = templateFixtures.filter((f) => f.name === "Phi-3.5" || f.name === "Qwen2.5" || f.name === "Qwen3");

for (const fixture of sessionFixtures) {
    describe(`chat session parity: ${fixture.name}`, () => {
        let loaded: { model: LlamaModel; context: LlamaContext } | undefined;
        const load = async (): Promise<{ model: LlamaModel; context: LlamaContext }> => {
            if (!loaded) {
                const llama = await getCpuLlama();
                const model = await llama.loadModel({ modelPath: tinyModelFor(fixture) });
                loaded = { model, context: await model.createContext({ contextSize: 1024, sequences: 1 }) };
            }
            return loaded;
        };
        after(async () => {
            await loaded?.context.dispose();
            await loaded?.model.dispose();
        });

        for (const [title, conversation] of Object.entries(conversations)) {
            test(`${title}: the session evaluates the training prompt token for token`, async () => {
                const { model, context } = await load();
                const tokenizer = pipelineTokenizerFor(model);
                // The last reply's sequence (Qwen3 trains each reply in its own).
                const trained = renderConversation(chatTemplateOf(model, fixture.name), conversation, tokenizer).at(-1);
                // The sequence ends with the last reply and its end token, one run of targets: it starts after the last 0.
                const firstTarget = Array.from(trained!.trainMask).lastIndexOf(0) + 1;
                assert.ok(firstTarget > 0 && firstTarget < trained!.tokens.length);

                const sequence = context.getSequence();
                const session = new LlamaChatSession({ contextSequence: sequence, chatWrapper: await createChatWrapperForModel(model) });
                try {
                    session.setChatHistory(chatHistoryFor(conversation.slice(0, -2)));
                    await session.prompt(conversation.at(-2)!.content, { maxTokens: 1 });
                    const evaluated = sequence.contextTokens.slice(0, firstTarget);
                    assert.equal(evaluated.length, firstTarget, "chat evaluated fewer tokens than the training prompt");
                    assert.deepEqual(Array.from(evaluated), Array.from(trained!.tokens.slice(0, firstTarget)),
                        `chat:     ${JSON.stringify(model.detokenize(sequence.contextTokens, true))}\ntraining: ${JSON.stringify(tokenizer.detokenize(Array.from(trained!.tokens.slice(0, firstTarget))))}`);
                    if (fixture.thinkTokens) {
                        assert.match(model.detokenize(evaluated, true), /<think>\s*<\/think>\s*$/, "thinking off: chat sends the closed empty think block as prompt, as training does");
                    }
                } finally {
                    session.dispose();
                    sequence.dispose();
                }
            });
        }
    });
}
