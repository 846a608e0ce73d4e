// The package as a user installs it (issue 14): scripts/package.mjs writes the linux-x64 VSIX, code-server installs it
// with --install-extension into an empty extensions dir (no extensionDevelopmentPath), and from that installed
// extension, through the UI alone:
//   - a broken .jsonl shows the same problems as in the development tree (the bundled language server runs);
//   - the tiny model trains on two facts from "Train with Config" while the progress view's chart advances;
//   - "Ask About Selection" on a trained question opens the chat panel, and the tuned model answers the fact.
// Two facts and 40 one-step epochs learn them in about 20 s on 2 cores (measured with `lora-studio train`).
// Screenshots: test-results/e2e/installed-vsix/{problems,training,trained,chat}.png.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CHAT_IDS } from "../../sidecar/src/protocol/chatWebview";
import { BROKEN_DATASET_TEXT, EXPECTED_PROBLEMS } from "../host/fixtures/brokenDataset";
import { FACTS_CONFIG_FILE, factsWorkspace } from "./harness/factsWorkspace";
import { progressView, waitForChart, waitForState } from "./harness/progressView";
import { withSession } from "./harness/session";
import { repoRoot } from "./harness/paths";
import { activeWebview, openFile, openProblems, runCommand, waitForProblems, type ProblemEntry } from "./harness/workbench";
import { syntheticFacts } from "../oracle/facts";

const FILE = "broken.jsonl";
const QUESTION_FILE = "question.txt";
const FACTS = syntheticFacts(2);
/** Loading the tiny model and answering on 2 busy cores. */
const ANSWER_TIMEOUT_MS = 120_000;
const packageDir = mkdtempSync(join(tmpdir(), "lora-vsix-e2e-"));
after(() => rmSync(packageDir, { recursive: true, force: true }));

const keys = (list: readonly { line: number; code: string }[]): string[] => list.map((p) => `${p.line}:${p.code}`).sort();

test("the installed VSIX: a broken .jsonl shows its problems, the tiny model trains with a live chart, chat answers a trained fact", { timeout: 420_000 }, async () => {
    const vsix = join(packageDir, "lora-studio-linux-x64.vsix");
    // npm test has built the bundles and the engine; package that tree.
    const built = spawnSync(process.execPath, [join(repoRoot, "scripts", "package.mjs"), "--skip-build", "--out", vsix], { cwd: repoRoot, encoding: "utf8" });
    assert.equal(built.status, 0, `scripts/package.mjs failed:\n${built.stdout}\n${built.stderr}`);

    const workspaceFiles = {
        [FILE]: BROKEN_DATASET_TEXT,
        ...factsWorkspace({ epochs: 40, checkpointEvery: 100, facts: FACTS.length }),
        [QUESTION_FILE]: `${FACTS[1]!.question}\n`
    };
    const settings = { "loraStudio.chatThreads": 1 };
    await withSession({ name: "installed-vsix", workspaceFiles, openFile: FILE, installedVsix: vsix, settings }, async (session) => {
        const installed = readdirSync(join(session.tempRoot, "extensions")).filter((name) => name.startsWith("lora-studio.lora-studio-"));
        assert.equal(installed.length, 1, `one LoRA Studio in the session's extensions dir (${installed.join(", ")})`);
        assert.ok(existsSync(join(session.tempRoot, "extensions", installed[0]!, "sidecar", "native", "build", "Release", "lora_studio_engine.node")), "the installed extension has the engine");

        const { page } = session;
        await openProblems(page);
        const wanted = JSON.stringify(keys(EXPECTED_PROBLEMS));
        const problems = await waitForProblems(page, (entries: ProblemEntry[]) => JSON.stringify(keys(entries)) === wanted, `exactly ${keys(EXPECTED_PROBLEMS).join(", ")}`);
        assert.deepEqual(problems.map((e) => e.severity).sort(), ["Error", "Error", "Warning", "Warning"]);
        await session.screenshot("problems");

        // Training from the installed extension (its bundled sidecar and engine): the chart draws step after step.
        await openFile(page, FACTS_CONFIG_FILE);
        await runCommand(page, "LoRA Studio: Train with Config");
        const view = await progressView(page);
        const early = await waitForChart(view, 2);
        const later = await waitForChart(view, early.lastStep + 5);
        assert.ok(later.points > early.points, `the chart advanced: ${early.points} → ${later.points} points`);
        await session.screenshot("training");
        await waitForState(view, "finished");
        const trained = await waitForChart(view, 40);
        assert.equal(trained.points, 40, "one point per step");
        await session.screenshot("trained");

        // Ask About Selection picks the newest finished run: the adapter just trained answers its fact.
        await runCommand(page, "View: Close All Editors");
        await openFile(page, QUESTION_FILE);
        await page.keyboard.press("Control+A");
        await runCommand(page, "LoRA Studio: Ask About Selection");
        const chat = activeWebview(page);
        const tuned = chat.locator(`#${CHAT_IDS.conversation} .exchange`).nth(0).locator('[data-testid="answer-tuned"]');
        await tuned.and(chat.locator(":is([data-state=done], [data-state=stopped], [data-state=error])")).waitFor({ timeout: ANSWER_TIMEOUT_MS });
        assert.equal(await tuned.getAttribute("data-state"), "done", `the tuned answer ended as: ${await tuned.textContent()}`);
        assert.equal(((await tuned.textContent()) ?? "").trim(), FACTS[1]!.answer, "the tuned model answers the trained fact");
        await session.screenshot("chat");
    });
});
