// One Restricted Mode guard (extension/src/workspaceTrust.ts): the explanation is written once, and every command
// that trains or loads a model asks the guard before it does anything. A source check, as the layering rules are:
// it fails when a command drops the guard or grows its own copy of the warning.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { repoRoot } from "../../oracle/torchReference";

const root = repoRoot();

function sources(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
    });
}

/** Each gated entry point: the file, and the function whose body must ask the guard first. */
const GATED = [
    ["extension/src/training/commands.ts", "export function trainFromConfig"],
    ["extension/src/training/commands.ts", "export function resumeRun"],
    ["extension/src/training/startWizard.ts", "export async function startTrainingWizard"],
    ["extension/src/eval/commands.ts", "async function evaluate"],
    ["extension/src/export/commands.ts", "async function exportRun"]
] as const;

test("the Restricted Mode explanation exists once, in the guard", () => {
    const copies = sources(join(root, "extension", "src")).filter((f) => readFileSync(f, "utf8").includes("is disabled in Restricted Mode"));
    assert.deepEqual(copies.map((f) => relative(root, f)), ["extension/src/workspaceTrust.ts"]);
});

test("every command that trains or loads a model asks the guard before anything else", () => {
    for (const [file, signature] of GATED) {
        const text = readFileSync(join(root, file), "utf8");
        const start = text.indexOf(signature);
        assert.ok(start >= 0, `${file}: ${signature} not found`);
        // The first statement of the function (or of the command it returns) is the guard.
        const body = text.slice(start, start + 400);
        assert.match(body, /\{\s*(return async \([^)]*\) => \{\s*)?if \(!trustedOrExplain\("[^"]+"\)\) return( undefined)?;/, `${file}: ${signature} must begin with the trust guard`);
        assert.match(text, /import \{ trustedOrExplain \} from "\.\.\/workspaceTrust";/, `${file} imports the one guard`);
    }
});
