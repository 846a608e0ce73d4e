// "LoRA Studio: Choose Base Model" in a real extension host: the real sidecar lists the workspace's GGUFs and the
// Ollama store that OLLAMA_MODELS names (test/e2e/chooseBaseModel.test.ts makes one holding the tiny model as
// `llama3.2:1b`), with the catalogue's models not downloaded; only the quick pick is scripted (the command's seam).
// Picking a model sets the workspace's loraStudio.baseModel; picking an unreadable file is refused with the reason;
// picking a catalogue model downloads it from the hub that HF_ENDPOINT names (the E2E test's server on 127.0.0.1).
import * as assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { suite } from "../harness";
import { activateExtensionUnderTest } from "../vscodeHelpers";
import type { ModelPickUi, ModelQuickPickItem } from "../../../extension/src/models/modelQuickPick";

const COMMAND = "loraStudio.chooseBaseModel";

/** Picks the first item whose label contains `answer`, and keeps what it was shown. */
function scripted(answer: string): ModelPickUi & { shown: ModelQuickPickItem[] } {
    const shown: ModelQuickPickItem[] = [];
    return {
        shown,
        pick: async (_title, items) => {
            shown.push(...items);
            const item = items.find((i) => i.kind !== vscode.QuickPickItemKind.Separator && i.label.includes(answer));
            assert.ok(item, `no item containing ${JSON.stringify(answer)}: ${items.map((i) => i.label).join(" | ")}`);
            return item;
        }
    };
}

function baseModelSetting(): string | undefined {
    return vscode.workspace.getConfiguration("loraStudio").inspect<string>("baseModel")?.workspaceValue;
}

suite("chooseBaseModel", (test) => {
    const tag = `choose-${process.pid}`;
    let folder: string;

    test("the pick lists found models by source and the catalogue; choosing an Ollama model sets loraStudio.baseModel", async () => {
        await activateExtensionUnderTest();
        const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
        const tiny = process.env.LORA_STUDIO_TEST_TINY_MODEL;
        assert.ok(root && tiny && process.env.OLLAMA_MODELS, "run by test/e2e/chooseBaseModel.test.ts, with a workspace, the tiny model and an Ollama store");
        folder = root;
        mkdirSync(join(folder, "models"), { recursive: true });
        copyFileSync(tiny, join(folder, "models", `${tag}.gguf`));
        writeFileSync(join(folder, "models", `${tag}-broken.gguf`), "not a GGUF file");

        const ui = scripted("llama3.2:1b");
        const chosen = await vscode.commands.executeCommand<string | undefined>(COMMAND, ui);
        const separators = ui.shown.filter((i) => i.kind === vscode.QuickPickItemKind.Separator).map((i) => i.label);
        assert.deepEqual(separators.filter((l) => ["Workspace", "Ollama", "Catalogue (not downloaded)"].includes(l)), ["Workspace", "Ollama", "Catalogue (not downloaded)"]);
        const ollama = ui.shown.find((i) => i.label === "llama3.2:1b");
        assert.match(ollama?.description ?? "", /^llama · [\d.]+M params · F32 · ctx \d+ · /);
        assert.match(ollama?.detail ?? "", /trainable/);
        const broken = ui.shown.find((i) => i.label.endsWith(`${tag}-broken.gguf`));
        assert.equal(broken?.description, "unreadable");
        const catalogue = ui.shown.filter((i) => i.entry?.kind === "catalogue");
        assert.ok(catalogue.length >= 10, `the catalogue's models are offered: ${catalogue.length}`);
        for (const item of catalogue) {
            assert.match(item.description ?? "", /not downloaded · .* · ≈ [\d.]+ (MB|GB) download/);
            assert.match(item.detail ?? "", /needs ≈ [\d.]+ GiB of the .* preset's [\d.]+ GiB/);
        }
        assert.ok(chosen?.startsWith(process.env.OLLAMA_MODELS!), `the Ollama blob was chosen: ${chosen}`);
        assert.equal(baseModelSetting(), chosen);
    }, { timeoutMs: 120_000 });

    test("a workspace model is set relative to the folder; an unreadable one is refused and changes nothing", async () => {
        try {
            const chosen = await vscode.commands.executeCommand<string | undefined>(COMMAND, scripted(`models/${tag}.gguf`));
            assert.equal(chosen, `models/${tag}.gguf`);
            assert.equal(baseModelSetting(), `models/${tag}.gguf`);
            const refused = await vscode.commands.executeCommand<string | undefined>(COMMAND, scripted(`${tag}-broken.gguf`));
            assert.equal(refused, undefined);
            assert.equal(baseModelSetting(), `models/${tag}.gguf`, "the setting is unchanged");
        } finally {
            await vscode.workspace.getConfiguration("loraStudio").update("baseModel", undefined, vscode.ConfigurationTarget.Workspace);
        }
    }, { timeoutMs: 120_000 });

    test("a catalogue model downloads into loraStudio.modelsFolder with a progress notification, then becomes the base model", async () => {
        const config = vscode.workspace.getConfiguration("loraStudio");
        assert.ok(process.env.HF_ENDPOINT?.startsWith("http://127.0.0.1:"), "the E2E test serves the hub on 127.0.0.1");
        await config.update("modelsFolder", "downloads", vscode.ConfigurationTarget.Workspace);
        try {
            const chosen = await vscode.commands.executeCommand<string | undefined>(COMMAND, scripted("Qwen2.5-0.5B-Instruct"));
            assert.equal(chosen, "downloads/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf", "relative to the workspace, where the modelsFolder setting points");
            assert.equal(baseModelSetting(), chosen);
            const tiny = readFileSync(process.env.LORA_STUDIO_TEST_TINY_MODEL!);
            assert.ok(readFileSync(join(folder, chosen)).equals(tiny), "the served file was downloaded whole");
            assert.deepEqual(readdirSync(join(folder, "downloads")), ["Qwen2.5-0.5B-Instruct-Q4_K_M.gguf"], "no partial is left");
        } finally {
            await config.update("modelsFolder", undefined, vscode.ConfigurationTarget.Workspace);
            await config.update("baseModel", undefined, vscode.ConfigurationTarget.Workspace);
        }
    }, { timeoutMs: 120_000 });
}, { onlyWhenSelected: true });

/** Run by test/e2e/chooseBaseModel.test.ts in a session with Workspace Trust on and the folder not trusted. */
suite("chooseBaseModelUntrusted", (test) => {
    test("in Restricted Mode the models are listed, but choosing one is refused and sets nothing", async () => {
        await activateExtensionUnderTest();
        assert.equal(vscode.workspace.isTrusted, false, "the session opened the folder in Restricted Mode");
        const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
        mkdirSync(join(folder, "models"), { recursive: true });
        copyFileSync(process.env.LORA_STUDIO_TEST_TINY_MODEL!, join(folder, "models", "untrusted.gguf"));
        const ui = scripted("models/untrusted.gguf");
        const chosen = await vscode.commands.executeCommand<string | undefined>(COMMAND, ui);
        assert.ok(ui.shown.some((i) => i.label === "models/untrusted.gguf"), "listing reads headers only, so it works");
        assert.equal(chosen, undefined);
        assert.equal(baseModelSetting(), undefined);
    }, { timeoutMs: 120_000 });
}, { onlyWhenSelected: true });
