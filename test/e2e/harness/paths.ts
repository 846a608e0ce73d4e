// Repository-relative locations the E2E harness needs, resolved at run time from this bundle's place
// (out/test/e2e/*.test.mjs), so no machine-specific path is ever written down.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRepoRoot(start: string): string {
    for (let dir = start; ; dir = dirname(dir)) {
        if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "scripts", "build.mjs"))) return dir;
        if (dirname(dir) === dir) throw new Error(`could not find the repository root above ${start}`);
    }
}

export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
/** The in-host test entry bundled by scripts/build.mjs from test/host/index.ts. */
export const hostTestsEntry = join(repoRoot, "out", "test", "host", "index.js");
/** Screenshots and other artefacts a person can look at after a run (git-ignored). */
export const resultsDir = join(repoRoot, "test-results", "e2e");
export const chromiumPath = process.env.LORA_STUDIO_CHROMIUM ?? "/usr/bin/chromium";
