// What a user does in the workbench, as Playwright steps: the command palette, Quick Open, Go to Line,
// the Problems panel, quick fixes and webviews. Every step waits for the UI element it needs.
import type { FrameLocator, Locator, Page } from "playwright-core";

/** Upper bound for any single UI event (an editor opening, a list filling); the steps take well under a second. */
export const UI_TIMEOUT_MS = 30_000;

const QUICK_INPUT = ".quick-input-widget";

async function typeIntoQuickInput(page: Page, text: string): Promise<void> {
    const input = page.locator(`${QUICK_INPUT} input`);
    await input.waitFor({ state: "visible", timeout: UI_TIMEOUT_MS });
    await input.fill(text);
}

/** Quick-input rows whose label contains `text`. */
function quickInputRow(page: Page, text: string): Locator {
    return page.locator(`${QUICK_INPUT} .monaco-list-row`, { hasText: text }).first();
}

/** How long one palette query waits for its row before it is typed again. */
const PALETTE_ATTEMPT_MS = 2_000;

/**
 * Opens the palette on `>title` and waits for the command's row. The palette reads the command list each time
 * its input changes, and extensions register a moment after the workbench shows, so a query that finds
 * nothing is typed again until the row appears or UI_TIMEOUT_MS passes.
 */
async function findCommandRow(page: Page, title: string): Promise<Locator | undefined> {
    await page.keyboard.press("F1");
    const row = page.locator(`${QUICK_INPUT} .monaco-list-row[aria-label^="${title}"]`).first();
    const deadline = Date.now() + UI_TIMEOUT_MS;
    while (Date.now() < deadline) {
        await typeIntoQuickInput(page, `>${title} `);
        await typeIntoQuickInput(page, `>${title}`);
        const found = await row.waitFor({ state: "visible", timeout: PALETTE_ATTEMPT_MS }).then(() => true, () => false);
        if (found) return row;
    }
    return undefined;
}

/** Runs a command from the palette by its title, e.g. "LoRA Studio: Preview Dataset". */
export async function runCommand(page: Page, title: string): Promise<void> {
    const row = await findCommandRow(page, title);
    if (!row) throw new Error(`the command palette does not list "${title}"`);
    await row.click();
    // The palette closes, or turns into the quick pick the command opens: either way the row goes.
    await row.waitFor({ state: "hidden", timeout: UI_TIMEOUT_MS });
}

/** Whether the palette lists a command with this title; `whileOpen` runs (e.g. a screenshot) before it closes. */
export async function paletteHasCommand(page: Page, title: string, whileOpen?: () => Promise<unknown>): Promise<boolean> {
    const row = await findCommandRow(page, title);
    await whileOpen?.();
    await page.keyboard.press("Escape");
    return row !== undefined;
}

/**
 * In a quick pick a command opened (showQuickPick), chooses the item whose label starts with `label`.
 * Typing the label first filters the list, since long lists only render the rows in view.
 */
export async function pickQuickItem(page: Page, label: string): Promise<void> {
    await typeIntoQuickInput(page, label);
    const row = page.locator(`${QUICK_INPUT} .monaco-list-row[aria-label^="${label}"]`).first();
    await row.waitFor({ state: "visible", timeout: UI_TIMEOUT_MS });
    await row.click();
}

/** In an input box a command opened (showInputBox), types `text` and accepts it. */
export async function answerInputBox(page: Page, text: string): Promise<void> {
    await typeIntoQuickInput(page, text);
    await page.keyboard.press("Enter");
}

/** Opens a workspace file with Quick Open (Ctrl+P) and waits for its editor tab. */
export async function openFile(page: Page, relativePath: string): Promise<void> {
    await page.keyboard.press("Control+P");
    await typeIntoQuickInput(page, relativePath);
    await quickInputRow(page, relativePath.split("/").pop()!).waitFor({ state: "visible", timeout: UI_TIMEOUT_MS });
    await page.keyboard.press("Enter");
    await activeEditorTab(page, relativePath.split("/").pop()!).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator(".part.editor .monaco-editor .view-lines").first().waitFor({ timeout: UI_TIMEOUT_MS });
}

export function activeEditorTab(page: Page, label: string): Locator {
    return page.locator(`.part.editor .tab.active[aria-label*="${label}"]`);
}

/** Moves the cursor to the start of a 1-based line (Ctrl+G) and waits until the status bar shows it. */
export async function goToLine(page: Page, line: number): Promise<void> {
    await page.keyboard.press("Control+G");
    // Ctrl+G opens Quick Open with the ":" (go to line) prefix, which fill() replaces, so type it back.
    await typeIntoQuickInput(page, `:${line}:1`);
    await page.keyboard.press("Enter");
    await page.locator(".statusbar-item", { hasText: `Ln ${line}, Col 1` }).first().waitFor({ timeout: UI_TIMEOUT_MS });
}

/** Opens the Problems panel (Ctrl+Shift+M) and returns the locator of its rows (file rows and marker rows). */
export async function openProblems(page: Page): Promise<Locator> {
    await page.keyboard.press("Control+Shift+M");
    await page.locator(".markers-panel").waitFor({ state: "visible", timeout: UI_TIMEOUT_MS });
    return page.locator(".markers-panel .monaco-list-row");
}

/** One marker row of the Problems panel, as the user reads it. */
export interface ProblemEntry {
    severity: string;
    /** 1-based. */
    line: number;
    code: string;
    message: string;
}

/**
 * The marker rows (tree level 2; level 1 rows are the files that group them), parsed from what the panel shows:
 * the accessible label "Error: <message> at line 3 and character 60. generated by <source>" and the code link.
 */
export async function problemEntries(page: Page): Promise<ProblemEntry[]> {
    return page.locator('.markers-panel .monaco-list-row[aria-level="2"]').evaluateAll((rows) => rows.map((row) => {
        const label = row.getAttribute("aria-label") ?? "";
        const match = /^(\w+): (.*) at line (\d+) and character \d+/.exec(label);
        const code = row.querySelector(".marker-code, .monaco-link")?.textContent?.trim() ?? "";
        return { severity: match?.[1] ?? "?", message: match?.[2] ?? label, line: Number(match?.[3] ?? 0), code };
    }));
}

/** Waits until the Problems panel's entries satisfy `accept`; Playwright re-checks on every animation frame. */
export async function waitForProblems(page: Page, accept: (entries: ProblemEntry[]) => boolean, what: string): Promise<ProblemEntry[]> {
    const deadline = Date.now() + UI_TIMEOUT_MS;
    for (;;) {
        const entries = await problemEntries(page);
        if (accept(entries)) return entries;
        if (Date.now() > deadline) throw new Error(`Problems panel never showed ${what}; it shows:\n${entries.map((e) => `  ${e.line}:${e.code} ${e.severity}: ${e.message}`).join("\n") || "  (nothing)"}`);
        // Wait for the next change of the panel's tree rather than polling on a clock.
        await page.locator(".markers-panel .monaco-list-rows").evaluate((el) => new Promise<void>((resolve) => {
            const observer = new MutationObserver(() => { observer.disconnect(); resolve(); });
            observer.observe(el, { subtree: true, childList: true, attributes: true, characterData: true });
            // Also return at the deadline so the failure message above can be shown.
            setTimeout(() => { observer.disconnect(); resolve(); }, 5_000);
        }), { timeout: UI_TIMEOUT_MS }).catch(() => undefined);
    }
}

/**
 * Opens the quick-fix menu (Ctrl+.) at the cursor and applies the action with this title. The menu is driven
 * with the keyboard, as users do: VS Code lays a pointer block over a fresh menu that swallows clicks.
 */
export async function applyQuickFix(page: Page, title: string): Promise<void> {
    const widget = page.locator(".action-widget");
    const wanted = widget.locator(`.monaco-list-row.action[aria-label="${title}"]`);
    // Under load VS Code can answer one Ctrl+. with "No code actions available" while the lightbulb for the same line
    // appears a moment later (seen in CI on a fresh clone: a cancelled or early request, most likely while the
    // language server republished the line's diagnostics). A user presses Ctrl+. again; so does this step, until the
    // action is listed or UI_TIMEOUT_MS passes. A fix that never comes still fails.
    const none = page.locator(".monaco-editor-overlaymessage", { hasText: "No code actions available" });
    const deadline = Date.now() + UI_TIMEOUT_MS;
    for (;;) {
        await page.keyboard.press("Control+.");
        const left = Math.max(1, deadline - Date.now());
        // The loser of the race times out later; its rejection is caught here, not left unhandled.
        const seen = await Promise.race([
            wanted.waitFor({ state: "visible", timeout: left }).then(() => "listed" as const, () => "timeout" as const),
            none.waitFor({ state: "visible", timeout: left }).then(() => "none" as const, () => "timeout" as const)
        ]);
        if (seen === "listed") break;
        if (seen === "timeout" || Date.now() >= deadline) throw new Error(`"${title}" did not appear in the quick-fix menu within ${UI_TIMEOUT_MS} ms (last: ${seen === "none" ? "No code actions available" : "no menu"})`);
        await page.keyboard.press("Escape");
        await none.waitFor({ state: "hidden", timeout: UI_TIMEOUT_MS });
    }
    const actionCount = await widget.locator(".monaco-list-row.action").count();
    for (let step = 0; step <= actionCount; step++) {
        const focused = widget.locator(".monaco-list-row.action.focused");
        await focused.waitFor({ timeout: UI_TIMEOUT_MS });
        if ((await focused.getAttribute("aria-label")) === title) {
            await page.keyboard.press("Enter");
            await widget.waitFor({ state: "hidden", timeout: UI_TIMEOUT_MS });
            return;
        }
        const previous = await focused.getAttribute("id");
        await page.keyboard.press("ArrowDown");
        await widget.locator(`.monaco-list-row.action.focused:not([id="${previous}"])`).waitFor({ timeout: UI_TIMEOUT_MS });
    }
    throw new Error(`the quick-fix menu lists "${title}" but it could not be focused with the keyboard`);
}

/** The body of the webview currently shown (VS Code nests it in two iframes); use when only one webview is open. */
export function activeWebview(page: Page): FrameLocator {
    return page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
}

/**
 * The body of the webview whose document has an element matching `selector`, for when several are open
 * (e.g. a preview beside a chat panel). Webview iframes carry no title, so their content tells them apart.
 */
export async function webviewContaining(page: Page, selector: string): Promise<FrameLocator> {
    const deadline = Date.now() + UI_TIMEOUT_MS;
    const outer = page.locator("iframe.webview.ready");
    for (;;) {
        const count = await outer.count();
        for (let i = 0; i < count; i++) {
            const body = outer.nth(i).contentFrame().frameLocator("#active-frame");
            if (await body.locator(selector).count() > 0) return body;
        }
        if (Date.now() > deadline) throw new Error(`no webview contains ${selector} (${count} webviews open)`);
        // A webview that is still loading navigates its frames; wait for that rather than for time.
        await page.waitForEvent("framenavigated", { timeout: 1_000 }).catch(() => undefined);
    }
}
