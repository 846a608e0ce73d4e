// Smoke test of the E2E harness itself: a real VS Code (code-server + Chromium) starts with this repository
// as the extension under development, the in-host suites run and report success, and a failing in-host
// suite is reported as a failure, so every other E2E test can trust a green result.
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "./harness/paths";
import { withSession } from "./harness/session";
import { paletteHasCommand } from "./harness/workbench";
import { describeFailures } from "../host/report";

interface ManifestCommand { command: string; title: string; category?: string }

function contributedCommands(): ManifestCommand[] {
    const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { contributes?: { commands?: ManifestCommand[] } };
    return manifest.contributes?.commands ?? [];
}

test("code-server shows the workbench with the extension's commands in the palette", async () => {
    const commands = contributedCommands();
    assert.ok(commands.length > 0, "package.json contributes no commands");
    const first = commands[0]!;
    const title = first.category ? `${first.category}: ${first.title}` : first.title;
    await withSession({ name: "harness-palette" }, async (session) => {
        const listed = await paletteHasCommand(session.page, title, () => session.screenshot("palette"));
        assert.equal(listed, true, `the palette does not list "${title}"`);
    });
});

test("in-host smoke suite: the extension activates and the run exits with code 0", async () => {
    await withSession({ name: "harness-host-pass", hostSuites: ["smoke"] }, async (session) => {
        const { exitCode, report } = await session.hostTestsResult();
        assert.ok(report, `the in-host run wrote no report (exit code ${exitCode}).\ncode-server output:\n${session.serverOutput}`);
        assert.equal(report.failed, 0, describeFailures(report));
        assert.ok(report.passed > 0, "no in-host test ran");
        assert.equal(exitCode, 0);
    });
});

test("a failing in-host suite makes the run exit non-zero and names the failed test", async () => {
    await withSession({ name: "harness-host-fail", hostSuites: ["deliberately-failing"] }, async (session) => {
        const { exitCode, report } = await session.hostTestsResult();
        assert.notEqual(exitCode, 0, "the extension host reported success for a failing suite");
        assert.ok(report, "the in-host run wrote no report");
        assert.deepEqual(report.results.map((r) => [r.suite, r.test, r.ok]), [["deliberately-failing", "fails on purpose", false]]);
        assert.match(report.results[0]!.error ?? "", /fails on purpose/);
    });
});
