// Token lengths of examples, measured with the base model's tokenizer, and the "will be truncated"
// warnings (LS301) they produce. The validator core stays tokenizer-free; this is server-side wiring.
import { normalizeExample, type ColumnMapping, type FormatSetting } from "../../sidecar/src/datasets/index";
import type { Diagnostic } from "vscode-languageserver";
import { TEMPLATE_TOKENS_PER_MESSAGE, type TokenCounter } from "./tokenizer";
import { toLspDiagnostic } from "./diagnostics";

/** Stored for lines with nothing to count (blank), so they are not visited again. */
export const NOTHING_TO_COUNT = -1;

/**
 * Tokens of one example: the content of every message plus a fixed template overhead per message.
 * An estimate of what training sees (the real chat template is rendered by the training pipeline), but
 * with the model's own vocabulary, so long examples are found where they are. Lines that are not a valid
 * example count as their raw text.
 */
export function countExampleTokens(lineText: string, format: FormatSetting | undefined, mapping: ColumnMapping | undefined, counter: TokenCounter): number {
    if (lineText.trim() === "") return NOTHING_TO_COUNT;
    let value: unknown;
    try {
        value = JSON.parse(lineText);
    } catch {
        return counter.count(lineText);
    }
    const example = normalizeExample(value, format === undefined || format === "auto" ? undefined : format, mapping);
    if (!example) return counter.count(lineText);
    let total = 0;
    for (const message of example.messages) total += counter.count(message.content) + (example.raw ? 0 : TEMPLATE_TOKENS_PER_MESSAGE);
    return total;
}

/** LS301 for every counted line longer than `maxSequenceLength`, capped at `cap` (the rest are counted in one summary). */
export function tokenDiagnostics(tokens: readonly (number | null)[], lineLength: (line: number) => number, maxSequenceLength: number, cap: number): Diagnostic[] {
    const out: Diagnostic[] = [];
    let over = 0;
    for (let line = 0; line < tokens.length; line++) {
        const count = tokens[line];
        if (count === null || count === undefined || count <= maxSequenceLength) continue;
        over++;
        if (out.length >= cap) continue;
        out.push(toLspDiagnostic({
            range: { start: { line, character: 0 }, end: { line, character: lineLength(line) } },
            severity: "warning",
            code: "LS301",
            message: `This example has ${count} tokens, more than loraStudio.training.sequenceLength (${maxSequenceLength}); it will be truncated in training.`
        }));
    }
    if (over > cap) {
        out.push(toLspDiagnostic({
            range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
            severity: "info",
            code: "LS900",
            message: `${over - cap} more examples will be truncated (only the first ${cap} are listed; see loraStudio.maxDiagnosticsPerFile).`
        }));
    }
    return out;
}
