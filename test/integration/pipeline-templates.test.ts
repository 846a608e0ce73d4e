// The pipeline against four real chat templates on their real tokenizers (vocabulary-only GGUFs):
// - the loss mask: trained tokens are exactly the assistant replies plus the template's end-of-turn token, and the
//   sequence is the template's own rendering;
// - chat parity ("what we train on must be token-for-token what chat sends"): the tokens before every reply equal
//   what node-llama-cpp's chat builds with createChatWrapperForModel (what our chat uses) for the same conversation.
// One file so each vocabulary (Gemma's has 262k tokens) is loaded once.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Template } from "@huggingface/jinja";
import { chatHistoryFor, createChatWrapperForModel } from "../../sidecar/src/pipeline/chatWrapper";
import { loadVocabModel, type VocabModel } from "../../sidecar/src/pipeline/llamaTokenizer";
import { renderConversation, renderPromptTokens } from "../../sidecar/src/pipeline/render";
import { TEMPLATE_RENDER_PARAMETERS } from "../../sidecar/src/pipeline/renderParameters";
import type { ChatMessage } from "../../sidecar/src/pipeline/types";
import { fixtureModelPath, templateFixtures } from "../unit/pipeline/support/templateFixtures";
import { trainedSpans } from "../unit/pipeline/support/fakeTokenizer";

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
            assert.ok(chatTemplate.includes(fixture.endOfTurn));
        });

        test("trained tokens are exactly each reply plus its end-of-turn token", async () => {
            const { chatTemplate, tokenizer } = await load();
            const sequences = renderConversation(chatTemplate, museum, tokenizer);
            assert.equal(sequences.length, 1, "these templates render earlier turns the same way in every prefix");
            const seq = sequences[0]!;
            const replies = museum.filter((m) => m.role === "assistant").map((m) => m.content + fixture.endOfTurn);
            assert.deepEqual(trainedSpans(seq.tokens, seq.trainMask, (t) => tokenizer.detokenize(t)), replies);
            const endTokens = Array.from(seq.tokens).filter((t, i) => seq.trainMask[i] === 1 && tokenizer.isEndOfGeneration(t));
            assert.equal(endTokens.length, replies.length, "one end-of-generation token trained per reply");
            assert.equal(seq.trainMask[seq.trainMask.length - 1], 1, "the sequence ends on the last end-of-turn token");
        });

        test("the sequence is the template's own rendering of the conversation", async () => {
            const { chatTemplate, tokenizer } = await load();
            const [seq] = renderConversation(chatTemplate, museum, tokenizer);
            const special = (t: number | undefined): string => (t === undefined ? "" : tokenizer.detokenize([t]));
            const rendered = new Template(chatTemplate).render({
                ...TEMPLATE_RENDER_PARAMETERS,
                messages: museum,
                bos_token: special(tokenizer.bos),
                eos_token: special(tokenizer.eos),
                eot_token: special(tokenizer.eot)
            });
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
                const [sequence] = renderConversation(chatTemplate, conversation, tokenizer);
                const trained = Array.from(sequence!.tokens);
                for (let k = 0; k < conversation.length; k++) {
                    if (conversation[k]!.role !== "assistant") continue;
                    const before = conversation.slice(0, k);
                    const { contextText } = wrapper.generateContextState({ chatHistory: [...chatHistoryFor(before), { type: "model", response: [] }] });
                    const chatTokens = contextText.tokenize(model.tokenizer);
                    const promptTokens = renderPromptTokens(chatTemplate, before, tokenizer);
                    assert.deepEqual(promptTokens, chatTokens,
                        `prompt for reply ${k}:\npipeline: ${JSON.stringify(tokenizer.detokenize(promptTokens))}\nchat:     ${JSON.stringify(tokenizer.detokenize(chatTokens))}`);
                    assert.deepEqual(trained.slice(0, chatTokens.length), chatTokens, `training sequence differs from chat before reply ${k}`);
                    assert.equal(sequence!.trainMask[chatTokens.length - 1], 0, "the last prompt token is not trained");
                    assert.equal(sequence!.trainMask[chatTokens.length], 1, "the reply's first token is trained");
                }
            });
        }
    });
}
