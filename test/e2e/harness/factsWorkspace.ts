// The workspace the training E2E tests open: the 24 synthetic facts as a chat JSONL and a run config that trains
// the tiny model on them (the demo's settings), for far longer than a test waits, so a run never finishes by itself.
import { syntheticFacts } from "../../oracle/facts";
import { fixturePath } from "../../oracle/fixtures";

export const FACTS_CONFIG_FILE = "facts.lora.json";

/** `facts` (default 24) of the synthetic facts: fewer train to an answer in fewer steps (the installed-VSIX test). */
export function factsWorkspace(options: { epochs: number; checkpointEvery: number; facts?: number }): Record<string, string> {
    const lines = syntheticFacts(options.facts ?? 24).map((f) => JSON.stringify({ messages: [{ role: "user", content: f.question }, { role: "assistant", content: f.answer }] }));
    const config = {
        model: fixturePath("tiny-f32.gguf"),
        data: "facts.jsonl",
        epochs: options.epochs,
        learningRate: 2e-3,
        sequenceLength: 128,
        threads: 2,
        checkpointEvery: options.checkpointEvery,
        seed: 7
    };
    return { "facts.jsonl": `${lines.join("\n")}\n`, [FACTS_CONFIG_FILE]: `${JSON.stringify(config, null, 4)}\n` };
}
