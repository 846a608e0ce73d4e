// "LoRA Studio: Import Dataset" in a real VS Code (code-server + Chromium): the in-host import suite drives the command
// through the real sidecar and language server, and a second session answers every question through the UI.
// Screenshots: test-results/e2e/import/after-import.png (the imported chat JSONL, its "Imported … rows" notification),
// test-results/e2e/import-ui/{preview,preview-edited,imported}.png.
import * as assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Page } from "playwright-core";
import { describeFailures } from "../host/report";
import { withSession } from "./harness/session";
import { answerInputBox, runCommand, UI_TIMEOUT_MS } from "./harness/workbench";

test("in-host Import Dataset: preview as written, import with a split, diagnostics on the result, existing outputs, a malformed row", async () => {
    await withSession({ name: "import", hostSuites: ["import"] }, async (session) => {
        const { exitCode, report } = await session.hostTestsResult();
        await session.screenshot("after-import");
        assert.ok(report, `the in-host run wrote no report (exit code ${exitCode}).\ncode-server output:\n${session.serverOutput}`);
        assert.equal(report.failed, 0, describeFailures(report));
        assert.equal(report.passed, 3);
        assert.equal(exitCode, 0);
    });
});

/** In the open quick pick, filters by `text` and clicks the first row showing it (labels with icons included). */
async function chooseRow(page: Page, text: string): Promise<void> {
    const input = page.locator(".quick-input-widget input");
    await input.waitFor({ state: "visible", timeout: UI_TIMEOUT_MS });
    await input.fill(text);
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: text }).first().click({ timeout: UI_TIMEOUT_MS });
}

/** Waits until the quick input holds `value` (code-server's file dialogs fill it in steps). */
async function inputValue(page: Page, value: string): Promise<void> {
    await page.waitForFunction((want) => document.querySelector<HTMLInputElement>(".quick-input-widget input")?.value === want, value, { timeout: UI_TIMEOUT_MS });
}

/** Waits for the quick input titled `title` (a question the command asks). */
async function quickInputTitled(page: Page, title: string | RegExp): Promise<void> {
    await page.locator(".quick-input-widget .quick-input-title", { hasText: title }).first().waitFor({ state: "visible", timeout: UI_TIMEOUT_MS });
}

test("Import Dataset from the palette, as a user does it: file dialog, preview, Edit mapping, Write, save dialog, split", async () => {
    const csv = "instruction,output\nWhat is the favorite color of Zorblat?,teal\n\"Name a colour, any colour.\",Blue\nSay hi.,Salut\nCount to two.,\"1, 2\"\n";
    await withSession({ name: "import-ui", workspaceFiles: { "facts.csv": csv } }, async (session) => {
        const { page } = session;
        const input = join(session.workspace, "facts.csv");
        await runCommand(page, "LoRA Studio: Import Dataset");
        // code-server's file dialog is a quick input that takes a typed path, once it has shown the folder it opens on.
        await inputValue(page, `${session.workspace}/`);
        await answerInputBox(page, input);

        // The preview: a read-only JSONL document beside the Write / Edit mapping / Cancel question.
        await quickInputTitled(page, "Import facts.csv (CSV): Alpaca detected");
        await page.locator(".part.editor .tab", { hasText: "facts.csv (import preview).jsonl" }).first().waitFor({ timeout: UI_TIMEOUT_MS });
        await page.locator(".part.editor .view-lines", { hasText: "What is the favorite color of Zorblat?" }).first().waitFor({ timeout: UI_TIMEOUT_MS });
        await page.mouse.move(700, 600); // no hover tooltip over the question's title
        await session.screenshot("preview");

        await chooseRow(page, "Edit mapping");
        await quickInputTitled(page, "Import: which mapping?");
        await chooseRow(page, "Alpaca");
        await quickInputTitled(page, "Import: system prompt");
        await answerInputBox(page, "Answer in one word.");
        await quickInputTitled(page, "Import: the user message template");
        await answerInputBox(page, "Q: {instruction}");
        await quickInputTitled(page, "Import: the assistant message template");
        await page.keyboard.press("Enter"); // keeps {output}
        // The preview follows the edited mapping before anything is written.
        await page.locator(".part.editor .view-lines", { hasText: "Answer in one word." }).first().waitFor({ timeout: UI_TIMEOUT_MS });
        assert.equal(existsSync(join(session.workspace, "facts.jsonl")), false, "nothing is written before Write");
        await quickInputTitled(page, "Import facts.csv (CSV): Alpaca detected");
        await session.screenshot("preview-edited");
        await chooseRow(page, "Write");

        // The save dialog proposes facts.jsonl beside the input; then a held-out half with seed 0.
        // (The dialog fills its input in steps: the folder first, then the proposed file.)
        await inputValue(page, join(session.workspace, "facts.jsonl"));
        await page.keyboard.press("Enter");
        await quickInputTitled(page, "Import: hold out a fraction");
        await answerInputBox(page, "0.5");
        await quickInputTitled(page, "Import: split seed");
        await page.keyboard.press("Enter");

        await page.locator(".part.editor .tab.active", { hasText: "facts.jsonl" }).first().waitFor({ timeout: UI_TIMEOUT_MS });
        await page.locator(".notification-toast", { hasText: "Imported 4 rows" }).first().waitFor({ timeout: UI_TIMEOUT_MS });
        await page.locator(".notification-toast", { hasText: "importing facts.csv" }).first().waitFor({ state: "hidden", timeout: UI_TIMEOUT_MS });
        await session.screenshot("imported");
        const lines = [...readFileSync(join(session.workspace, "facts.jsonl"), "utf8").trimEnd().split("\n"), ...readFileSync(join(session.workspace, "facts.heldout.jsonl"), "utf8").trimEnd().split("\n")];
        assert.equal(lines.length, 4);
        assert.ok(lines.includes(JSON.stringify({ messages: [{ role: "system", content: "Answer in one word." }, { role: "user", content: "Q: What is the favorite color of Zorblat?" }, { role: "assistant", content: "teal" }] })), lines.join("\n"));
    });
});
