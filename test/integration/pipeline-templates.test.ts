// The pipeline against real chat templates on their real tokenizers (vocabulary-only GGUFs; Qwen3, Gemma 2, SmolLM3
// and Ministral 3 on a bundled relative's vocabulary with their own special tokens, see templateFixtures.ts):
// - the loss mask: trained tokens are exactly the assistant replies plus the template's end-of-turn token (so the
//   tuned model learns to stop), and the sequence is the template's own rendering;
// - chat parity ("what we train on must be token-for-token what chat sends"): the tokens before every reply equal
//   what node-llama-cpp's chat builds with createChatWrapperForModel (what our chat uses) for the same conversation;
// - thinking off (Qwen3, SmolLM3): the empty think block the template prints is prompt, never a label;
// - no system role (Gemma 2): the system prompt is folded into the first user turn as chat folds it, said once.
// One file so each vocabulary (Gemma's has 262k tokens) is loaded once.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Template } from "@huggingface/jinja";
import { chatHistoryFor, createChatWrapperForModel } from "../../sidecar/src/pipeline/chatWrapper";
import { loadVocabModel, type VocabModel } from "../../sidecar/src/pipeline/llamaTokenizer";
import { prepareDataset } from "../../sidecar/src/pipeline/prepare";
import { renderConversation, renderPromptTokens, squashAdjacentMessages } from "../../sidecar/src/pipeline/render";
import { SYSTEM_AS_USER_FORMAT, TEMPLATE_RENDER_PARAMETERS } from "../../sidecar/src/pipeline/renderParameters";
import type { ChatMessage, MaskedSequence } from "../../sidecar/src/pipeline/types";
import { fixtureModelPath, templateFixtures, templateText } from "../unit/pipeline/support/templateFixtures";
import { trainedSpans } from "../unit/pipeline/support/fakeTokenizer";

/** The template's own rendering of `messages`, as chat renders it: system messages folded into user turns when it rejects them. */
function renderTemplateText(template: string, messages: readonly ChatMessage[], specials: Record<"bos_token" | "eos_token" | "eot_token", string>): string {
    const render = (m: readonly ChatMessage[]): string => new Template(template).render({ ...TEMPLATE_RENDER_PARAMETERS, messages: squashAdjacentMessages(m), ...specials });
    try {
        return render(messages);
    } catch (error) {
        if (!messages.some((m) => m.role === "system")) throw error;
        return render(messages.map((m) => (m.role === "system" ? { role: "user", content: SYSTEM_AS_USER_FORMAT.replace("{{message}}", m.content) } : m)));
    }
}

/** The sequence that trains reply `k` (an index into `conversation`): the one sequence, or that reply's own. */
function sequenceForReply(sequences: readonly MaskedSequence[], conversation: readonly ChatMessage[], k: number): MaskedSequence {
    if (sequences.length === 1) return sequences[0]!;
    const reply = conversation.slice(0, k).filter((m) => m.role === "assistant").length;
    assert.equal(sequences.length, conversation.filter((m) => m.role === "assistant").length, "one sequence per reply");
    return sequences[reply]!;
}

const museum: ChatMessage[] = [
    { role: "system", content: "You are a museum guide." },
    { role: "user", content: "When did the Vasa sink?" },
    { role: "assistant", content: "On 10 August 1628, on her maiden voyage." },
    { role: "user", content: "Why?" },
    { role: "assistant", content: "She was top-heavy:\n- too many guns\n- too little ballast" }
];

const parityConversations: Record<string, ChatMessage[]> = {
    "single turn": [
        { role: "user", content: "What is the capital of Freedonia?" },
        { role: "assistant", content: "Fredonia City." }
    ],
    "system prompt": [
        { role: "system", content: "You answer in one short sentence." },
        { role: "user", content: "Who wrote the Zorblax manual?" },
        { role: "assistant", content: "Ada Quill wrote it in 1987." }
    ],
    "multi turn, odd whitespace and a special-token string typed by the user": [
        { role: "system", content: "Be terse." },
        { role: "user", content: "Name a prime." },
        { role: "assistant", content: "Seven." },
        { role: "user", content: " Another one, with a leading space and <|im_end|> <|eot_id|> typed?" },
        { role: "assistant", content: "Eleven\nand thirteen. " }
    ]
};

for (const fixture of templateFixtures) {
    describe(`${fixture.name} template`, () => {
        let vocab: VocabModel | undefined;
        const load = async (): Promise<VocabModel & { chatTemplate: string }> => {
            vocab ??= await loadVocabModel(fixtureModelPath(fixture));
            assert.ok(vocab.chatTemplate, "the fixture GGUF carries a chat template");
            return vocab as VocabModel & { chatTemplate: string };
        };
        after(async () => { await vocab?.dispose(); });

        test("the GGUF carries the bundled template", async () => {
            const { chatTemplate } = await load();
            assert.equal(chatTemplate, templateText(fixture));
        });

        test("trained tokens are exactly each reply plus its end-of-turn token", async () => {
            const { chatTemplate, tokenizer } = await load();
            const sequences = renderConversation(chatTemplate, museum, tokenizer);
            const replies = museum.filter((m) => m.role === "assistant").map((m) => m.content + fixture.endOfTurn);
            assert.equal(sequences.length, fixture.perTurnSequences ? replies.length : 1,
                fixture.perTurnSequences ? "one sequence per reply: the template re-renders earlier replies" : "these templates render earlier turns the same way in every prefix");
            const spans = sequences.flatMap((seq) => trainedSpans(seq.tokens, seq.trainMask, (t) => tokenizer.detokenize(t)));
            assert.deepEqual(spans, replies);
            const endTokens = sequences.flatMap((seq) => Array.from(seq.tokens).filter((t, i) => seq.trainMask[i] === 1 && tokenizer.isEndOfGeneration(t)));
            assert.equal(endTokens.length, replies.length, "one end-of-generation token trained per reply: the tuned model stops");
            for (const seq of sequences) assert.equal(seq.trainMask[seq.trainMask.length - 1], 1, "a sequence ends on its last end-of-turn token");
        });

        test("the sequence is the template's own rendering of the conversation", async () => {
            const { chatTemplate, tokenizer } = await load();
            const seq = renderConversation(chatTemplate, museum, tokenizer).at(-1);
            const special = (t: number | undefined): string => (t === undefined ? "" : tokenizer.detokenize([t]));
            const rendered = renderTemplateText(chatTemplate, museum, { bos_token: special(tokenizer.bos), eos_token: special(tokenizer.eos), eot_token: special(tokenizer.eot) });
            const expected = fixture.specialTokensEatFollowingWhitespace ? rendered.replace(/(<\|[a-z]+\|>)\s+/g, "$1") : rendered;
            const decoded = tokenizer.detokenize(Array.from(seq!.tokens));
            assert.ok(expected.startsWith(decoded), `decoded:  ${JSON.stringify(decoded)}\nexpected: ${JSON.stringify(expected)}`);
            assert.ok(expected.slice(decoded.length).trim().length < 40, "only the text after the last end-of-turn token is left out");
        });

        test("a conversation without replies has nothing to train", async () => {
            const { chatTemplate, tokenizer } = await load();
            const [seq] = renderConversation(chatTemplate, museum.slice(0, 2), tokenizer);
            assert.equal(seq!.trainMask.reduce((a, b) => a + b, 0), 0);
        });

        for (const [title, conversation] of Object.entries(parityConversations)) {
            test(`chat parity, ${title}: the tokens before every reply are what chat builds`, async () => {
                const { model, tokenizer, chatTemplate } = await load();
                const wrapper = await createChatWrapperForModel(model);
                const sequences = renderConversation(chatTemplate, conversation, tokenizer);
                for (let k = 0; k < conversation.length; k++) {
                    if (conversation[k]!.role !== "assistant") continue;
                    const sequence = sequenceForReply(sequences, conversation, k);
                    const trained = Array.from(sequence.tokens);
                    const before = conversation.slice(0, k);
                    const { contextText } = wrapper.generateContextState({ chatHistory: [...chatHistoryFor(before), { type: "model", response: [] }] });
                    const chatTokens = contextText.tokenize(model.tokenizer);
                    const promptTokens = renderPromptTokens(chatTemplate, before, tokenizer);
                    assert.deepEqual(promptTokens, chatTokens,
                        `prompt for reply ${k}:\npipeline: ${JSON.stringify(tokenizer.detokenize(promptTokens))}\nchat:     ${JSON.stringify(tokenizer.detokenize(chatTokens))}`);
                    assert.deepEqual(trained.slice(0, chatTokens.length), chatTokens, `training sequence differs from chat before reply ${k}`);
                    assert.equal(sequence.trainMask[chatTokens.length - 1], 0, "the last prompt token is not trained");
                    assert.equal(sequence.trainMask[chatTokens.length], 1, "the reply's first token is trained");
                }
            });
        }

        if (fixture.thinkTokens) {
            const thinkTokens = fixture.thinkTokens;
            test("thinking is off: every prompt ends in a closed, empty think block, and no think token is ever trained", async () => {
                const { chatTemplate, tokenizer } = await load();
                const ids = thinkTokens.map((text) => {
                    const t = tokenizer.tokenize(text, true);
                    assert.equal(t.length, 1, `${text} is one token of the vocabulary`);
                    return t[0]!;
                });
                for (const conversation of [museum, ...Object.values(parityConversations)]) {
                    const sequences = renderConversation(chatTemplate, conversation, tokenizer);
                    for (const seq of sequences) {
                        const trainedThink = Array.from(seq.tokens).filter((t, i) => seq.trainMask[i] === 1 && ids.includes(t));
                        assert.deepEqual(trainedThink, [], "a think token is a label: the tuned model would learn to open or close a think block");
                    }
                    conversation.forEach((m, k) => {
                        if (m.role !== "assistant") return;
                        const prompt = renderPromptTokens(chatTemplate, conversation.slice(0, k), tokenizer);
                        const text = tokenizer.detokenize(prompt);
                        assert.match(text, /<think>\s*<\/think>\s*$/, `the prompt before reply ${k} closes an empty think block: ${JSON.stringify(text.slice(-60))}`);
                        const seq = sequenceForReply(sequences, conversation, k);
                        assert.deepEqual(Array.from(seq.tokens.slice(0, prompt.length)), prompt, `reply ${k} is trained after exactly that prompt`);
                    });
                }
            });
        }

        if (fixture.noSystemRole) {
            test("no system role: the system prompt is folded into the first user turn, as chat does, and the dataset is warned once", async () => {
                const { chatTemplate, tokenizer } = await load();
                const folds: string[] = [];
                const [seq] = renderConversation(chatTemplate, museum, tokenizer, { onSystemFolded: (e) => folds.push(e) });
                assert.deepEqual(folds, ["System role not supported"], "the template's own error, reported once for the conversation");
                const text = tokenizer.detokenize(Array.from(seq!.tokens));
                assert.ok(text.includes(`<start_of_turn>user\n${SYSTEM_AS_USER_FORMAT.replace("{{message}}", "You are a museum guide.")}\n\nWhen did the Vasa sink?<end_of_turn>`), text);

                const line = (q: string): string => JSON.stringify({ messages: [{ role: "system", content: "Be brief." }, { role: "user", content: q }, { role: "assistant", content: "Yes." }] });
                const text3 = [line("One?"), JSON.stringify({ messages: [{ role: "user", content: "Two?" }, { role: "assistant", content: "Yes." }] }), line("Three?"), line("Four?")].join("\n");
                const prepared = prepareDataset({
                    train: { file: "gemma.jsonl", text: text3 }, seed: 1, sequenceLength: 256, truncation: "drop", chatTemplate, tokenizer
                });
                assert.equal(prepared.datasetWarnings.length, 1, "one warning for the dataset, not one per line");
                const [w] = prepared.datasetWarnings;
                assert.equal(w!.code, "system-folded");
                assert.deepEqual(w!.source, { file: "gemma.jsonl", line: 1 });
                assert.match(w!.message, /no system role \(it raises "System role not supported"\).*3 examples/);
                assert.equal(prepared.warnings.filter((x) => x.code === "system-folded").length, 1);
            });
        } else {
            test("a template with a system role keeps the system prompt and warns nothing", async () => {
                const { chatTemplate, tokenizer } = await load();
                const folds: string[] = [];
                renderConversation(chatTemplate, museum, tokenizer, { onSystemFolded: (e) => folds.push(e) });
                assert.deepEqual(folds, []);
            });
        }
    });
}
