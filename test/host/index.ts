// Entry point of the in-host tests: VS Code loads this bundle (out/test/host/index.js) through
// extensionTestsPath and awaits `run()`. A rejected promise makes the extension host exit with code 1.
// Used by both launchers: test/e2e (code-server, offline) and test/electron/runElectron.ts (downloads VS Code).
//
// Environment (optional):
//   LORA_STUDIO_HOST_SUITES  comma-separated suite names; empty runs every suite except only-when-selected ones
//   LORA_STUDIO_HOST_REPORT  where to write the JSON report (see report.ts)
import { renameSync, writeFileSync } from "node:fs";
import { runSuites } from "./harness";
import { describeFailures } from "./report";
import "./suites/smoke";
import "./suites/harnessSelfCheck";
import "./suites/datasets";
import "./suites/startWizard";
import "./suites/export";
import "./suites/import";
import "./suites/importAdapter";
import "./suites/chooseBaseModel";

export async function run(): Promise<void> {
    const selection = (process.env.LORA_STUDIO_HOST_SUITES ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const report = await runSuites(selection, (line) => console.log(`[host tests] ${line}`));
    const reportPath = process.env.LORA_STUDIO_HOST_REPORT;
    if (reportPath) {
        writeFileSync(`${reportPath}.tmp`, JSON.stringify(report, null, 4));
        renameSync(`${reportPath}.tmp`, reportPath);
    }
    if (report.results.length === 0) throw new Error("no in-host tests ran");
    if (report.failed > 0) throw new Error(`${report.failed} of ${report.results.length} in-host tests failed:\n${describeFailures(report)}`);
}
