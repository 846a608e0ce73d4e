// Packing: several sequences share one row of `rowLength` tokens, each with its own seq id and positions from 0,
// so the engine (kv_unified, per-sequence causal mask) never lets attention cross from one example into another.
// Shape legend: N = tokens in a row (≤ rowLength), L = the engine's fixed batch length after padding.
import type { ExampleSource, MaskedSequence, MicroBatch, PackedRow, TokenizedExample } from "./types";

export interface PackItem {
    source: ExampleSource;
    sequence: MaskedSequence;
}

/** Every sequence of every example, in order; an example's sequences stay consecutive. */
export function packItems(examples: readonly TokenizedExample[]): PackItem[] {
    return examples.flatMap((e) => e.sequences.map((sequence) => ({ source: e.source, sequence })));
}

/**
 * First-fit: each sequence goes into the first row that still has room, else opens a new row. Sequences are never
 * split (truncation is the truncation policy's job, before packing): one longer than `rowLength` is an error.
 */
export function packFirstFit(items: readonly PackItem[], rowLength: number): PackedRow[] {
    const rows: PackItem[][] = [];
    const used: number[] = [];
    for (const item of items) {
        const n = item.sequence.tokens.length;
        if (n > rowLength) throw new Error(`${item.source.file}:${item.source.line}: sequence of ${n} tokens does not fit rows of ${rowLength}; apply the truncation policy before packing`);
        if (n === 0) continue;
        let r = used.findIndex((u) => u + n <= rowLength);
        if (r < 0) {
            r = rows.length;
            rows.push([]);
            used.push(0);
        }
        rows[r]!.push(item);
        used[r]! += n;
    }
    return rows.map((row, r) => concatRow(row, used[r]!));
}

function concatRow(items: readonly PackItem[], length: number): PackedRow {
    const row: PackedRow = {
        tokens: new Int32Array(length),
        positions: new Int32Array(length),
        seqIds: new Int32Array(length),
        trainMask: new Uint8Array(length),
        sources: items.map((i) => i.source)
    };
    let at = 0;
    items.forEach((item, seqId) => {
        const { tokens, trainMask } = item.sequence;
        row.tokens.set(tokens, at);
        row.trainMask.set(trainMask, at);
        row.seqIds.fill(seqId, at, at + tokens.length);
        for (let p = 0; p < tokens.length; p++) row.positions[at + p] = p;
        at += tokens.length;
    });
    return row;
}

/** Labels for a packed row: labels[i] = tokens[i+1] when that token is a target of the same sequence, else -1. */
export function labelsFor(row: Pick<PackedRow, "tokens" | "seqIds" | "trainMask">): Int32Array {
    const n = row.tokens.length;
    const labels = new Int32Array(n).fill(-1);
    for (let i = 0; i + 1 < n; i++) {
        if (row.trainMask[i + 1] === 1 && row.seqIds[i + 1] === row.seqIds[i]) labels[i] = row.tokens[i + 1]!;
    }
    return labels;
}

export interface MicroBatchOptions {
    /**
     * Pads the batch to this many tokens. ggml-opt needs the same graph shape every step, so the trainer pads every
     * row to the configured sequence length. Padding is its own sequence (id after the row's last) with label -1.
     */
    padTo?: number;
    /** Token used for padding (e.g. EOS); it is never a target, so its value only has to be a valid id. */
    padToken?: number;
}

export function toMicroBatch(row: PackedRow, options: MicroBatchOptions = {}): MicroBatch {
    const n = row.tokens.length;
    const length = options.padTo ?? n;
    if (length < n) throw new Error(`cannot pad a row of ${n} tokens to ${length}`);
    const batch: MicroBatch = {
        tokens: new Int32Array(length),
        positions: new Int32Array(length),
        seqIds: new Int32Array(length),
        labels: new Int32Array(length).fill(-1)
    };
    batch.tokens.set(row.tokens);
    batch.positions.set(row.positions);
    batch.seqIds.set(row.seqIds);
    batch.labels.set(labelsFor(row));
    if (length > n) {
        const padSeq = n === 0 ? 0 : row.seqIds[n - 1]! + 1;
        batch.tokens.fill(options.padToken ?? 0, n);
        batch.seqIds.fill(padSeq, n);
        for (let i = n; i < length; i++) batch.positions[i] = i - n;
    }
    return batch;
}
