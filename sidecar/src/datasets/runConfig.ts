// Live diagnostics for run config files (`*.lora.json`): the problems of the one run-config resolution
// (training/resolveRunConfig.ts) placed on the exact key, value or character of the text. The checks themselves live
// there, so the editor, `lora-studio train` and run/start cannot disagree; this file only turns field paths into
// ranges.
import { resolveRunConfig, type RunConfigProbe, type RunConfigProblem } from "../training/resolveRunConfig";
import { clampRange, rangeOfPath, treeOf, type CharRange } from "./jsonRanges";
import type { DatasetDiagnostic, Position } from "./types";

export { RUN_CONFIG_CODES, type RunConfigCode, type RunConfigProbe } from "../training/resolveRunConfig";

/** Offsets → 0-based line/character over a whole (multi-line) file. */
export class TextPositions {
    private readonly starts: number[] = [0];
    constructor(text: string) {
        for (let i = 0; i < text.length; i++) {
            const c = text.charCodeAt(i);
            if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) this.starts.push(i + 1);
        }
    }
    at(offset: number): Position {
        let lo = 0;
        let hi = this.starts.length - 1;
        while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if (this.starts[mid]! <= offset) lo = mid;
            else hi = mid - 1;
        }
        return { line: lo, character: offset - this.starts[lo]! };
    }
}

/** Where in `text` a problem points: its offsets (syntax), or its field's key or value, or a missing field's object. */
export function problemOffsets(text: string, problem: RunConfigProblem): CharRange {
    if (problem.offsets) return problem.offsets;
    // A BOM is not part of the JSON the tree is built from.
    const shift = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    const body = text.slice(shift);
    const tree = treeOf(body);
    if (problem.target === "open-brace") {
        // Point at the object's opening brace rather than the whole (multi-line) object.
        const start = rangeOfPath(tree, problem.path.slice(0, -1), "value", body).start + shift;
        return { start, end: start + 1 };
    }
    const range = tree ? rangeOfPath(tree, problem.path, problem.target, body) : clampRange(body, 0, body.length);
    return { start: range.start + shift, end: range.end + shift };
}

/**
 * Diagnostics of one run config. `configDir` is the absolute folder of the config file: relative paths in it
 * resolve there, as `lora-studio train --config` and the extension resolve them. `resolvePath(dir, p)` joins them.
 */
export function checkRunConfig(text: string, configDir: string, probe: RunConfigProbe, resolvePath: (dir: string, path: string) => string): DatasetDiagnostic[] {
    const positions = new TextPositions(text);
    const { problems } = resolveRunConfig({ text }, { file: configDir, baseDir: configDir, probe, resolvePath });
    return problems
        .map((problem): DatasetDiagnostic => {
            const offsets = problemOffsets(text, problem);
            return { range: { start: positions.at(offsets.start), end: positions.at(offsets.end) }, severity: problem.severity, code: problem.code, message: problem.message };
        })
        .sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}
