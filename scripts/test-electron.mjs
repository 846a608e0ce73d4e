// Runs the in-host test suites (test/host, bundled to out/test/host/index.js) in a desktop VS Code downloaded
// by @vscode/test-electron: the same suites the offline code-server E2E tests run. Needs internet (it downloads
// VS Code from Microsoft), so CI does not run it; `npm run test:electron` builds first.
//
//   LORA_STUDIO_VSCODE_VERSION  VS Code to test against (default: the engines minimum, 1.100.3; or "stable")
//   LORA_STUDIO_HOST_SUITES     comma-separated suites (default: all)
// On Linux without a display, run it under xvfb: `xvfb-run -a npm run test:electron`.
import { runTests } from "@vscode/test-electron";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const testsEntry = join(root, "out", "test", "host", "index.js");
if (!existsSync(testsEntry)) {
    console.error(`test-electron: ${testsEntry} is missing; run \`npm run build\` first.`);
    process.exit(1);
}

const temp = mkdtempSync(join(tmpdir(), "lora-studio-electron-"));
const workspace = join(temp, "workspace");
mkdirSync(workspace);
const reportPath = join(temp, "host-report.json");

let exitCode = 1;
try {
    exitCode = await runTests({
        version: process.env.LORA_STUDIO_VSCODE_VERSION ?? "1.100.3",
        extensionDevelopmentPath: root,
        extensionTestsPath: testsEntry,
        extensionTestsEnv: {
            LORA_STUDIO_HOST_SUITES: process.env.LORA_STUDIO_HOST_SUITES ?? "",
            LORA_STUDIO_HOST_REPORT: reportPath
        },
        launchArgs: [
            workspace,
            "--disable-extensions",
            "--disable-workspace-trust",
            "--skip-welcome",
            "--skip-release-notes",
            "--user-data-dir", join(temp, "user-data")
        ]
    });
} catch (err) {
    // runTests rejects with TestRunFailedError when VS Code exits non-zero.
    console.error(`test-electron: ${err instanceof Error ? err.message : String(err)}`);
    console.error("test-electron: it downloads VS Code, so it needs internet; offline, the same suites run in code-server with `npm test -- e2e`.");
    exitCode = 1;
}

if (existsSync(reportPath)) {
    const report = JSON.parse(readFileSync(reportPath, "utf8"));
    for (const r of report.results) console.log(`${r.ok ? "✓" : "✗"} ${r.suite} › ${r.test}${r.ok ? "" : `\n${r.error}`}`);
    console.log(`test-electron: ${report.passed} passed, ${report.failed} failed`);
}
rmSync(temp, { recursive: true, force: true });
process.exit(exitCode);
