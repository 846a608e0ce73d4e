// "LoRA Studio: Start Training" in a real extension host: the wizard reads real workspace files and settings, asks
// the sidecar for memory estimates, writes `<name>.lora.json` and hands it to "Train with Config". Only the quick
// input is scripted (the command's test seam); escaping at any step writes nothing.
//
// LORA_STUDIO_TEST_TINY_MODEL (set by test/e2e/startWizard.test.ts) is a real GGUF to pick through "Browse…";
// without it a header-only llama GGUF (no weights) is picked and the run itself is not checked.
//
// Models the engine cannot train (a mixture-of-experts model, a recurrent one, an adapter) are header-only GGUFs
// written into the workspace: the model step marks them before the pick and refuses them after it.
import * as assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { suite } from "../harness";
import { activateExtensionUnderTest } from "../vscodeHelpers";
import type { WizardItem, WizardUi } from "../../../extension/src/training/startWizard";
import { writeGguf, type GgufValue } from "../../../sidecar/src/gguf";

/** A GGUF with metadata only: enough for the wizard's header check, nothing to load. */
function headerOnlyGguf(path: string, kv: Record<string, GgufValue>): void {
    writeGguf(path, { kv: Object.entries(kv), tensors: [] });
}

const COMMAND = "loraStudio.startTraining";

interface Script {
    /** Answer to each pick in order; undefined = Escape. A string picks the item whose label contains it. */
    picks: Array<string | undefined>;
    input?: string | undefined;
    browse?: vscode.Uri | undefined;
}

/** A WizardUi that answers from `script` and records what it was shown. */
function scripted(script: Script): WizardUi & { shown: Array<{ title: string; items: readonly WizardItem[] }> } {
    const picks = [...script.picks];
    const shown: Array<{ title: string; items: readonly WizardItem[] }> = [];
    return {
        shown,
        pick: async (title, items) => {
            shown.push({ title, items });
            const answer = picks.shift();
            if (answer === undefined) return undefined;
            const item = items.find((i) => i.label.includes(answer));
            assert.ok(item, `no item containing ${JSON.stringify(answer)} in "${title}": ${items.map((i) => i.label).join(" | ")}`);
            return item;
        },
        input: async (title, value, validate) => {
            shown.push({ title, items: [{ label: value, value }] });
            if (script.input === undefined) return undefined;
            assert.equal(validate(script.input), undefined, `the name ${script.input} is valid`);
            return script.input;
        },
        browse: async () => script.browse
    };
}

function configsIn(folder: string): string[] {
    return readdirSync(folder).filter((f) => f.endsWith(".lora.json")).sort();
}

suite("startWizard", (test) => {
    let folder: string;
    let model: vscode.Uri;
    const tag = `wizard-${process.pid}`;

    test("escaping at any of the four steps ends the wizard without writing a config", async () => {
        await activateExtensionUnderTest();
        const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
        assert.ok(root, "the in-host tests run with a workspace folder open");
        folder = root;
        const dataset = `${tag}.jsonl`;
        writeFileSync(join(folder, dataset), `${JSON.stringify({ messages: [{ role: "user", content: "What is the pet of Zorblat?" }, { role: "assistant", content: "a goat" }] })}\n`);
        const real = process.env.LORA_STUDIO_TEST_TINY_MODEL;
        model = real ? vscode.Uri.file(real) : vscode.Uri.file(join(folder, `${tag}-placeholder.gguf`));
        if (!real) headerOnlyGguf(model.fsPath, { "general.architecture": { type: "string", value: "llama" } });
        const before = configsIn(folder);
        for (const script of [
            { picks: [undefined] },
            { picks: [dataset, undefined] },
            { picks: [dataset, "Browse", "CPU"], browse: undefined },
            { picks: [dataset, "Browse", undefined], browse: model },
            { picks: [dataset, "Browse", "CPU"], browse: model, input: undefined }
        ] satisfies Script[]) {
            const written = await vscode.commands.executeCommand<vscode.Uri | undefined>(COMMAND, scripted(script));
            assert.equal(written, undefined, `cancelled at ${JSON.stringify(script)}`);
        }
        assert.deepEqual(configsIn(folder), before, "no config was written");
    }, { timeoutMs: 120_000 });

    test("the wizard writes <name>.lora.json from the picks, the settings and the preset, then trains it", async () => {
        await vscode.workspace.getConfiguration("loraStudio.training").update("epochs", 1, vscode.ConfigurationTarget.Workspace);
        try {
            const ui = scripted({ picks: [`${tag}.jsonl`, "Browse", "CPU"], browse: model, input: tag });
            const written = await vscode.commands.executeCommand<vscode.Uri | undefined>(COMMAND, ui);
            assert.ok(written, "the wizard wrote a config");
            assert.equal(written.fsPath, join(folder, `${tag}.lora.json`));

            const [datasets, models, presets] = ui.shown;
            assert.match(datasets!.title, /1\/4/);
            assert.ok(datasets!.items.some((i) => i.label === `${tag}.jsonl`), "workspace *.jsonl files are offered");
            assert.ok(models!.items.at(-1)!.label.includes("Browse"), "Browse… is offered for the model");
            assert.ok(models!.items.at(-2)!.label.includes("Download a model"), "the catalogue is offered through Download a model… (Choose Base Model's download)");
            assert.deepEqual(presets!.items.map((i) => i.value).sort(), ["cpu", "gpu-12gb", "gpu-24gb", "gpu-6gb"]);
            if (process.env.LORA_STUDIO_TEST_TINY_MODEL) {
                assert.match(presets!.items[0]!.description ?? "", /detected/, "the detected preset comes first");
                for (const item of presets!.items) assert.match(item.detail ?? "", /needs ~[\d.]+ GiB of [\d.]+ GiB free/, `${item.label} shows its estimate`);
            }

            const config = JSON.parse(readFileSync(written.fsPath, "utf8")) as Record<string, unknown>;
            assert.match(String(config.$schema), /dist\/schemas\/run-config\.editor\.schema\.json$/);
            assert.equal(config.data, `${tag}.jsonl`);
            assert.equal(config.epochs, 1, "the workspace setting loraStudio.training.epochs is used");
            assert.equal(config.sequenceLength, 256, "the CPU preset's rows");
            assert.equal(config.quantizeBase, "q4_0");
            assert.equal(config.learningRate, 2e-4, "unchanged settings keep the schema's defaults");
            if (process.env.LORA_STUDIO_TEST_TINY_MODEL) {
                // "Train with Config" started a run of this config in the workspace's run store.
                const runs = join(folder, ".lora-studio", "runs");
                assert.ok(existsSync(runs), "a run directory was created");
                const trained = readdirSync(runs).map((id) => JSON.parse(readFileSync(join(runs, id, "config.json"), "utf8")) as { data: string });
                assert.ok(trained.some((c) => c.data === join(folder, `${tag}.jsonl`)), `a run trains ${tag}.jsonl: ${JSON.stringify(trained)}`);
            }
        } finally {
            await vscode.workspace.getConfiguration("loraStudio.training").update("epochs", undefined, vscode.ConfigurationTarget.Workspace);
        }
    }, { timeoutMs: 180_000 });

    test("models the engine cannot train are marked before the pick, with the reason, and refused when picked", async () => {
        const moe = join(folder, `${tag}-mixtral.gguf`);
        const rwkv = join(folder, `${tag}-rwkv.gguf`);
        headerOnlyGguf(moe, { "general.architecture": { type: "string", value: "llama" }, "llama.expert_count": { type: "u32", value: 8 } });
        headerOnlyGguf(rwkv, { "general.architecture": { type: "string", value: "rwkv7" } });
        const before = configsIn(folder);
        const ui = scripted({ picks: [`${tag}.jsonl`, `${tag}-mixtral.gguf`, "CPU"], input: `${tag}-refused` });
        const written = await vscode.commands.executeCommand<vscode.Uri | undefined>(COMMAND, ui);
        assert.equal(written, undefined, "a model that cannot be trained ends the wizard");
        assert.deepEqual(configsIn(folder), before, "no config was written");
        assert.equal(ui.shown.length, 2, "nothing was asked after the model");
        const items = ui.shown[1]!.items;
        const item = (name: string): WizardItem => {
            const found = items.find((i) => i.label.endsWith(name));
            assert.ok(found, `${name} is offered: ${items.map((i) => i.label).join(" | ")}`);
            return found;
        };
        assert.match(item(`${tag}-mixtral.gguf`).description ?? "", /cannot be trained/);
        assert.match(item(`${tag}-mixtral.gguf`).detail ?? "", /mixture-of-experts.*8 experts.*llama, qwen2, qwen3, phi3/);
        assert.match(item(`${tag}-rwkv.gguf`).detail ?? "", /'rwkv7' is a recurrent or hybrid model/);
        if (!process.env.LORA_STUDIO_TEST_TINY_MODEL) {
            assert.match(item(`${tag}-placeholder.gguf`).description ?? "", /^llama · /, "a trainable model shows its architecture");
        }
    }, { timeoutMs: 60_000 });
});

/** Run by test/e2e/startWizard.test.ts in a session with Workspace Trust on and the folder not trusted. */
suite("startWizardUntrusted", (test) => {
    test("in Restricted Mode the wizard explains itself and asks nothing", async () => {
        await activateExtensionUnderTest();
        assert.equal(vscode.workspace.isTrusted, false, "the session opened the folder in Restricted Mode");
        const ui = scripted({ picks: [] });
        const written = await vscode.commands.executeCommand<vscode.Uri | undefined>(COMMAND, ui);
        assert.equal(written, undefined);
        assert.deepEqual(ui.shown, [], "no quick pick was shown");
    });
}, { onlyWhenSelected: true });
