// Shared helpers of the dataset unit tests: locating the repository, reading fixtures as the CLI does.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeDatasetBytes, type DatasetDiagnostic, type ValidationResult } from "../../../sidecar/src/datasets/index";

/** The repository root: the first ancestor of this (bundled) file that holds package.json. */
export function repoRoot(): string {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, "package.json"))) {
        const up = dirname(dir);
        if (up === dir) throw new Error("repository root not found above the test file");
        dir = up;
    }
    return dir;
}

export const fixturesDir = (): string => join(repoRoot(), "test", "fixtures", "datasets");

export function readFixture(name: string): { text: string; invalidUtf8: boolean } {
    return decodeDatasetBytes(readFileSync(join(fixturesDir(), name)));
}

/** Asserts every diagnostic range lies on one line of `text`, within that line. Returns a message or undefined. */
export function rangeProblem(text: string, result: ValidationResult): string | undefined {
    const lines = text.indexOf("\r") < 0 ? text.split("\n") : text.split(/\r\n|\r|\n/);
    for (const d of result.diagnostics) {
        const { start, end } = d.range;
        const line = lines[start.line];
        if (line === undefined) return `line ${start.line} out of range (${lines.length} lines): ${describe(d)}`;
        if (end.line !== start.line) return `multi-line range: ${describe(d)}`;
        if (start.character < 0 || start.character > end.character || end.character > line.length) {
            return `range ${start.character}..${end.character} outside line of length ${line.length}: ${describe(d)}`;
        }
    }
    return undefined;
}

export function describe(d: DatasetDiagnostic): string {
    return `${d.code} ${d.range.start.line}:${d.range.start.character}-${d.range.end.character} ${d.message}`;
}

/** Comparable form of a result (drops fixes, which are built lazily, and keeps order). */
export function summary(result: ValidationResult): string[] {
    return result.diagnostics.map(describe);
}
