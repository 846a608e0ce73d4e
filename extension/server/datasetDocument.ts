// Per-document state of the language server: the lines, the incremental validator that has seen them,
// its latest result and the token counts. Validation is serialized per document and a full pass feeds the
// validator in slices with a yield to the event loop between them, so a 200k-line file never blocks the
// server for more than one slice; a one-line edit re-validates only the changed lines.
import type { TextDocumentContentChangeEvent } from "vscode-languageserver";
import { IncrementalValidator, type ValidateOptions, type ValidationResult } from "../../sidecar/src/datasets/index";
import { LineBuffer, spliceLarge } from "./lineBuffer";
import { countExampleTokens } from "../../sidecar/src/datasets/tokenChecks";
import type { TokenCounter } from "./tokenizer";

/**
 * A full pass feeds the validator slices of half the lines done so far, between these bounds. Each slice also
 * re-runs the validator's file-wide pass over every line so far, so growing slices keep that total near 4 passes
 * (instead of one per fixed slice), while no slice blocks the server for long (about 40k lines of checks).
 */
const MIN_SLICE_LINES = 10_000;
const MAX_SLICE_LINES = 40_000;
/** Token counting runs in slices of this many lines between yields. */
const TOKEN_SLICE_LINES = 2_000;
/** An edit touching more lines than this is re-validated as a full pass (sliced) rather than in one go. */
const MAX_INCREMENTAL_LINES = 20_000;

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class DatasetDocument {
    readonly buffer: LineBuffer;
    private validator: IncrementalValidator;
    private latest: ValidationResult | null = null;
    /** Token count per line, aligned with the buffer; null = not counted (yet) or nothing to count. */
    private tokens: (number | null)[];
    private tokensCountedWith: TokenCounter | null = null;
    /** Serializes validation so edits and full passes never interleave on the validator. */
    private queue: Promise<unknown> = Promise.resolve();

    constructor(readonly uri: string, text: string, public version: number | null, private options: ValidateOptions) {
        this.buffer = new LineBuffer(text);
        this.validator = new IncrementalValidator(options);
        this.tokens = new Array<number | null>(this.buffer.lineCount).fill(null);
    }

    get result(): ValidationResult | null {
        return this.latest;
    }

    get validateOptions(): ValidateOptions {
        return this.options;
    }

    applyChanges(changes: readonly TextDocumentContentChangeEvent[], version: number): void {
        this.version = version;
        for (const change of changes) {
            if ("range" in change) {
                const { start, removed, inserted } = this.buffer.applyChange(change.range, change.text);
                spliceLarge(this.tokens, start, removed, new Array<number | null>(inserted).fill(null));
            } else {
                this.buffer.replaceAll(change.text);
                this.tokens = new Array<number | null>(this.buffer.lineCount).fill(null);
            }
        }
    }

    /** New settings: forget everything the validator knew and validate the whole text again. */
    setOptions(options: ValidateOptions): void {
        this.options = options;
        this.buffer.replaceAll(this.buffer.text()); // pending = "all": the next validate() is a full pass with them
    }

    /** Validates whatever changed since the last call; resolves with the up-to-date result. */
    validate(): Promise<ValidationResult> {
        const run = this.queue.then(() => this.flush());
        this.queue = run.catch(() => undefined);
        return run;
    }

    private async flush(): Promise<ValidationResult> {
        const pending = this.buffer.takePending();
        if (pending === null && this.latest) return this.latest;
        if (pending === null || pending === "all" || pending.newEnd - pending.start > MAX_INCREMENTAL_LINES) {
            this.latest = await this.fullPass();
            // Edits that arrived while the full pass yielded are pending again; apply them before answering.
            return this.flush();
        }
        this.latest = this.validator.applyEdit({ startLine: pending.start, endLine: pending.oldEnd, newLines: this.buffer.slice(pending.start, pending.newEnd) });
        return this.latest;
    }

    /**
     * Feeds a snapshot of the lines to a fresh validator slice by slice (appending at the end), yielding between
     * slices. Edits made meanwhile only touch the buffer and its pending edit, which is relative to this snapshot.
     */
    private async fullPass(): Promise<ValidationResult> {
        const snapshot = this.buffer.slice(0, this.buffer.lineCount);
        this.buffer.takePending();
        const options = this.options;
        const validator = new IncrementalValidator(options);
        this.validator = validator;
        let result = validator.setText(snapshot.slice(0, MIN_SLICE_LINES).join("\n"));
        for (let start = MIN_SLICE_LINES; start < snapshot.length; ) {
            await yieldToEventLoop();
            // New settings meanwhile: stop; the pending "all" they left makes flush() start over.
            if (this.options !== options) return result;
            const size = Math.min(MAX_SLICE_LINES, Math.max(MIN_SLICE_LINES, Math.floor(start / 2)));
            result = validator.applyEdit({ startLine: start, endLine: start, newLines: snapshot.slice(start, start + size) });
            start += size;
        }
        return result;
    }

    /** Token count per line (null: not counted yet; NOTHING_TO_COUNT: blank), for the preview and LS301. */
    tokenCounts(counter: TokenCounter | null): readonly (number | null)[] | null {
        return counter && this.tokensCountedWith === counter ? this.tokens : null;
    }

    /** How many lines still need counting with `counter` (all of them when it is a new tokenizer). */
    uncountedLines(counter: TokenCounter): number {
        if (this.tokensCountedWith !== counter) return this.buffer.lineCount;
        let uncounted = 0;
        for (let i = 0; i < this.tokens.length; i++) if (this.tokens[i] === null) uncounted++;
        return uncounted;
    }

    /**
     * Counts tokens of every line not counted yet, in slices with yields in between (so the server keeps answering).
     * Stops early, returning false, when the document changes meanwhile; the next validation round resumes it.
     */
    async countTokens(counter: TokenCounter, isCancelled: () => boolean): Promise<boolean> {
        if (this.tokensCountedWith !== counter) {
            this.tokens = new Array<number | null>(this.buffer.lineCount).fill(null);
            this.tokensCountedWith = counter;
        }
        const version = this.version;
        let sliceCount = 0;
        for (let i = 0; i < this.tokens.length; i++) {
            if (this.tokens[i] !== null) continue;
            this.tokens[i] = countExampleTokens(this.buffer.line(i), { format: this.options.format, mapping: this.options.columnMapping }, counter);
            if (++sliceCount >= TOKEN_SLICE_LINES) {
                sliceCount = 0;
                await yieldToEventLoop();
                if (isCancelled() || this.version !== version) return false;
            }
        }
        return true;
    }
}
