// A document kept as an array of lines, updated by LSP incremental changes, that remembers which
// lines changed since the validator last saw it. Keeping lines (not one big string) makes a one-line
// edit on a 200k-line file cost O(changed lines) plus one array splice, and gives the incremental
// validator exactly the {startLine, endLine, newLines} it needs.
import type { Range } from "vscode-languageserver";
import { splitLines } from "../../sidecar/src/datasets/index";

/** Lines [start, oldEnd) of the text the validator last saw became lines [start, newEnd) of the current text. */
export interface PendingEdit {
    start: number;
    oldEnd: number;
    newEnd: number;
}

/** Above this many inserted lines, rebuild the array instead of `splice(...spread)`, which overflows the stack. */
const MAX_SPREAD_LINES = 10_000;

/** The dataset core's splitter (re-exported for the buffer's tests), so the buffer numbers lines as the validator does. */
export { splitLines };

export class LineBuffer {
    private lines: string[];
    /** null: nothing changed since the last `takePending`; "all": the validator must see the whole text. */
    private pending: PendingEdit | "all" | null = "all";

    constructor(text: string) {
        this.lines = splitLines(text);
    }

    get lineCount(): number {
        return this.lines.length;
    }

    line(index: number): string {
        return this.lines[index] ?? "";
    }

    slice(start: number, end: number): string[] {
        return this.lines.slice(start, end);
    }

    text(): string {
        return this.lines.join("\n");
    }

    replaceAll(text: string): void {
        this.lines = splitLines(text);
        this.pending = "all";
    }

    /**
     * Applies one LSP incremental change. Positions count UTF-16 code units, as JS strings do.
     * Returns where the change landed, so callers can keep arrays aligned with lines (token counts).
     */
    applyChange(range: Range, text: string): { start: number; removed: number; inserted: number } {
        const startLine = Math.min(range.start.line, this.lines.length - 1);
        const endLine = Math.min(range.end.line, this.lines.length - 1);
        const prefix = this.line(startLine).slice(0, range.start.character);
        const suffix = this.line(endLine).slice(range.end.character);
        const inserted = splitLines(prefix + text + suffix);
        const removed = endLine - startLine + 1;
        spliceLarge(this.lines, startLine, removed, inserted);
        this.recordEdit(startLine, endLine + 1, inserted.length);
        return { start: startLine, removed, inserted: inserted.length };
    }

    /** Returns what changed since the last call and forgets it. */
    takePending(): PendingEdit | "all" | null {
        const pending = this.pending;
        this.pending = null;
        return pending;
    }

    /** Merges current-text lines [start, end) → `insertedCount` lines into the pending edit. */
    private recordEdit(start: number, end: number, insertedCount: number): void {
        if (this.pending === "all") return;
        if (this.pending === null) {
            this.pending = { start, oldEnd: end, newEnd: start + insertedCount };
            return;
        }
        // The pending edit maps old [p.start, p.oldEnd) to current [p.start, p.newEnd); lines after it are shifted by
        // (newEnd - oldEnd). The union of both edits, in current coordinates, is [min start, max end).
        const p = this.pending;
        const unionStart = Math.min(p.start, start);
        const unionEndCurrent = Math.max(p.newEnd, end);
        this.pending = {
            start: unionStart,
            oldEnd: unionEndCurrent - (p.newEnd - p.oldEnd),
            newEnd: unionEndCurrent + insertedCount - (end - start)
        };
    }
}

/** `array.splice(start, deleteCount, ...items)` that also works for hundreds of thousands of items. */
export function spliceLarge<T>(array: T[], start: number, deleteCount: number, items: T[]): void {
    if (items.length <= MAX_SPREAD_LINES) {
        array.splice(start, deleteCount, ...items);
        return;
    }
    const tail = array.slice(start + deleteCount);
    array.length = start;
    for (const item of items) array.push(item);
    for (const item of tail) array.push(item);
}
