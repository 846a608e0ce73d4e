// The package as a user installs it (issue 14): scripts/package.mjs writes the linux-x64 VSIX, code-server installs it
// with --install-extension into an empty extensions dir (no extensionDevelopmentPath), and a broken .jsonl shows the
// same problems as in the development tree: the bundled language server runs from the installed extension.
// Screenshot: test-results/e2e/installed-vsix/problems.png.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { BROKEN_DATASET_TEXT, EXPECTED_PROBLEMS } from "../host/fixtures/brokenDataset";
import { withSession } from "./harness/session";
import { repoRoot } from "./harness/paths";
import { openProblems, waitForProblems, type ProblemEntry } from "./harness/workbench";

const FILE = "broken.jsonl";
const packageDir = mkdtempSync(join(tmpdir(), "lora-vsix-e2e-"));
after(() => rmSync(packageDir, { recursive: true, force: true }));

const keys = (list: readonly { line: number; code: string }[]): string[] => list.map((p) => `${p.line}:${p.code}`).sort();

test("the installed VSIX: a broken .jsonl shows its problems", { timeout: 300_000 }, async () => {
    const vsix = join(packageDir, "lora-studio-linux-x64.vsix");
    // npm test has built the bundles and the engine; package that tree.
    const built = spawnSync(process.execPath, [join(repoRoot, "scripts", "package.mjs"), "--skip-build", "--out", vsix], { cwd: repoRoot, encoding: "utf8" });
    assert.equal(built.status, 0, `scripts/package.mjs failed:\n${built.stdout}\n${built.stderr}`);

    await withSession({ name: "installed-vsix", workspaceFiles: { [FILE]: BROKEN_DATASET_TEXT }, openFile: FILE, installedVsix: vsix }, async (session) => {
        const installed = readdirSync(join(session.tempRoot, "extensions")).filter((name) => name.startsWith("lora-studio.lora-studio-"));
        assert.equal(installed.length, 1, `one LoRA Studio in the session's extensions dir (${installed.join(", ")})`);
        assert.ok(existsSync(join(session.tempRoot, "extensions", installed[0]!, "sidecar", "native", "build", "Release", "lora_studio_engine.node")), "the installed extension has the engine");

        const { page } = session;
        await openProblems(page);
        const wanted = JSON.stringify(keys(EXPECTED_PROBLEMS));
        const problems = await waitForProblems(page, (entries: ProblemEntry[]) => JSON.stringify(keys(entries)) === wanted, `exactly ${keys(EXPECTED_PROBLEMS).join(", ")}`);
        assert.deepEqual(problems.map((e) => e.severity).sort(), ["Error", "Error", "Warning", "Warning"]);
        await session.screenshot("problems");
    });
});
