// Dataset tooling in a real VS Code (code-server + Chromium), as a user meets it: open a broken .jsonl, read
// the problems in the Problems panel, apply the "convert to chat" quick fix from the lightbulb menu, save,
// open the dataset preview, and see it follow the next save. Then the same checks through VS Code's API,
// inside the extension host (test/host/suites/datasets.ts).
// Screenshots: test-results/e2e/datasets/*.png.
import * as assert from "node:assert/strict";
import { test } from "node:test";
import type { FrameLocator } from "playwright-core";
import { PREVIEW_IDS } from "../../sidecar/src/protocol/previewWebview";
import {
    BROKEN_DATASET_TEXT, CONVERTED_LINE, CONVERT_FIX_TITLE, EXPECTED_COUNTS_AFTER_FIX, EXPECTED_PROBLEMS, EXPECTED_PROBLEMS_AFTER_FIX
} from "../host/fixtures/brokenDataset";
import { describeFailures } from "../host/report";
import { fixtureModelPath, templateFixtures } from "../unit/pipeline/support/templateFixtures";
import { withSession } from "./harness/session";
import {
    activeWebview, applyQuickFix, goToLine, openProblems, runCommand, UI_TIMEOUT_MS, waitForProblems, type ProblemEntry
} from "./harness/workbench";

const FILE = "broken.jsonl";
const PREVIEW_TITLE = "LoRA Studio: Preview Dataset";
/** The line that repeats line 1 (LS205), deleted at the end to see the preview follow a save. */
const DUPLICATE_LINE = EXPECTED_PROBLEMS.find((p) => p.code === "LS205")!.line;
/** A vocabulary-only GGUF with Qwen2.5's chat template: the language server loads its tokenizer for the label mask. */
const QWEN = templateFixtures.find((f) => f.name === "Qwen2.5")!;

function problemKeys(entries: readonly ProblemEntry[]): string[] {
    return entries.map((e) => `${e.line}:${e.code}`).sort();
}

function expectedKeys(list: readonly { line: number; code: string }[]): string[] {
    return list.map((p) => `${p.line}:${p.code}`).sort();
}

function sameProblems(wanted: readonly { line: number; code: string }[]) {
    return (entries: ProblemEntry[]) => JSON.stringify(problemKeys(entries)) === JSON.stringify(expectedKeys(wanted));
}

async function countOf(preview: FrameLocator, key: string): Promise<number> {
    const text = await preview.locator(`#${PREVIEW_IDS.counts} [data-testid="count-${key}"]`).textContent({ timeout: UI_TIMEOUT_MS });
    return Number((text ?? "").replace(/[^\d]/g, ""));
}

test("a broken .jsonl: Problems panel, quick fix, preview", async () => {
    const settings = { "loraStudio.baseModel": fixtureModelPath(QWEN) };
    await withSession({ name: "datasets", workspaceFiles: { [FILE]: BROKEN_DATASET_TEXT }, openFile: FILE, settings }, async (session) => {
        const { page } = session;
        await openProblems(page);
        const before = await waitForProblems(page, sameProblems(EXPECTED_PROBLEMS), `exactly ${expectedKeys(EXPECTED_PROBLEMS).join(", ")}`);
        assert.deepEqual(before.map((e) => e.severity).sort(), ["Error", "Error", "Warning", "Warning"]);
        await session.screenshot("problems");

        // The editor gets focus back from the panel through Go to Line, then the lightbulb menu (Ctrl+.).
        await goToLine(page, CONVERTED_LINE);
        await applyQuickFix(page, CONVERT_FIX_TITLE);
        await waitForProblems(page, sameProblems(EXPECTED_PROBLEMS_AFTER_FIX), `exactly ${expectedKeys(EXPECTED_PROBLEMS_AFTER_FIX).join(", ")} after the quick fix`);
        const convertedLine = page.locator(".part.editor .monaco-editor .view-line", { hasText: '"role":"assistant","content":"Bonjour !"' });
        await convertedLine.first().waitFor({ timeout: UI_TIMEOUT_MS });
        await page.keyboard.press("Control+S");
        await page.locator(`.part.editor .tab.active:not(.dirty)[aria-label*="${FILE}"]`).waitFor({ timeout: UI_TIMEOUT_MS });
        await session.screenshot("quick-fix");

        await runCommand(page, PREVIEW_TITLE);
        const preview = activeWebview(page);
        await preview.locator(`#${PREVIEW_IDS.counts} [data-testid="count-valid"]`).waitFor({ timeout: UI_TIMEOUT_MS });
        assert.deepEqual(
            { valid: await countOf(preview, "valid"), warning: await countOf(preview, "warning"), error: await countOf(preview, "error") },
            EXPECTED_COUNTS_AFTER_FIX
        );
        // The table shows the converted line as chat, and the duplicate of line 1 is listed.
        const convertedRow = preview.locator(`#${PREVIEW_IDS.table} [data-testid="row"][data-line="${CONVERTED_LINE - 1}"]`);
        await convertedRow.waitFor({ timeout: UI_TIMEOUT_MS });
        assert.match((await convertedRow.textContent()) ?? "", /chat/);
        assert.match((await preview.locator(`#${PREVIEW_IDS.duplicates}`).textContent()) ?? "", new RegExp(`Line ${DUPLICATE_LINE} repeats line 1`));
        await session.screenshot("preview");

        // Selecting the converted row shows its label mask: the reply and the template's end token trained.
        await convertedRow.click();
        const trained = preview.locator(`#${PREVIEW_IDS.mask} .tok.trained`);
        await trained.first().waitFor({ timeout: UI_TIMEOUT_MS });
        assert.equal((await trained.allTextContents()).join(""), `Bonjour !${QWEN.endOfTurn}`);
        assert.ok((await preview.locator(`#${PREVIEW_IDS.mask} .tok.masked`).count()) > 0, "the prompt's tokens are shown, masked");
        const count = preview.locator(`#${PREVIEW_IDS.maskCount}`);
        assert.equal(await count.getAttribute("data-trainable"), String(await trained.count()));
        assert.match((await count.textContent()) ?? "", /trainable of \d+ tokens/);
        await preview.locator(`#${PREVIEW_IDS.mask}`).scrollIntoViewIfNeeded();
        await session.screenshot("label-mask");

        // The preview follows the file on save: delete the duplicate line in the editor and save.
        await page.keyboard.press("Control+1");
        await goToLine(page, DUPLICATE_LINE);
        await page.keyboard.press("Control+Shift+K");
        await page.keyboard.press("Control+S");
        await preview.locator(`#${PREVIEW_IDS.counts} [data-testid="count-duplicates"]`).filter({ hasText: /^0$/ }).waitFor({ timeout: UI_TIMEOUT_MS });
        assert.deepEqual(
            { valid: await countOf(preview, "valid"), warning: await countOf(preview, "warning"), error: await countOf(preview, "error") },
            { ...EXPECTED_COUNTS_AFTER_FIX, warning: EXPECTED_COUNTS_AFTER_FIX.warning - 1 }
        );
        await waitForProblems(page, sameProblems(EXPECTED_PROBLEMS_AFTER_FIX.filter((p) => p.line !== DUPLICATE_LINE)), "no duplicate warning after deleting the line");
        await session.screenshot("preview-after-save");
    });
});

test("in-host dataset suite: diagnostics, quick fix and preview through the VS Code API", async () => {
    await withSession({ name: "datasets-host", hostSuites: ["datasets"] }, async (session) => {
        const { exitCode, report } = await session.hostTestsResult();
        assert.ok(report, `the in-host run wrote no report (exit code ${exitCode}).\ncode-server output:\n${session.serverOutput}`);
        assert.equal(report.failed, 0, describeFailures(report));
        assert.equal(report.passed, 4);
        assert.equal(exitCode, 0);
    });
});
