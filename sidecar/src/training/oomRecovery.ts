// Out-of-memory recovery: when a run fails with OUT_OF_MEMORY, the sidecar continues it from its last checkpoint
// with the micro-batch halved (sequenceLength / 2, gradAccum × 2: the same tokens per optimizer step). This file
// holds the pure parts: the smaller shape and the data cursor in the shorter rows; runService.ts runs the loop.
//
// Rows never shrink below the longest training or validation sequence, so no example is dropped or cut: the
// examples trained are the same, only packed into shorter rows. A checkpoint's cursor counts rows of the old
// length; translateCursor finds where the same place in the epoch is among the new rows.

import { OutOfMemoryError } from "../engine";
import { packEpoch, type PreparedDataset } from "../pipeline";
import type { TokenizedExample } from "../pipeline/types";
import type { MemoryAdjustment } from "../protocol/sidecar";
import type { ResolvedRunConfig } from "./config";
import { MIN_SEQUENCE_LENGTH } from "./memoryEstimate";

/** Tokens of the longest sequence in the training and validation sets: the shortest row that holds them all. */
export function longestSequence(prepared: Pick<PreparedDataset, "train" | "validation">): number {
    let longest = 0;
    for (const example of [...prepared.train, ...prepared.validation]) {
        for (const s of example.sequences) longest = Math.max(longest, s.tokens.length);
    }
    return longest;
}

/** The next smaller micro-batch, or undefined when rows cannot get shorter without losing examples. */
export function shrinkMicroBatch(
    current: { sequenceLength: number; gradAccum: number },
    minSequenceLength: number
): { sequenceLength: number; gradAccum: number } | undefined {
    const sequenceLength = Math.floor(current.sequenceLength / 2);
    if (sequenceLength < Math.max(MIN_SEQUENCE_LENGTH, minSequenceLength)) return undefined;
    return { sequenceLength, gradAccum: current.gradAccum * 2 };
}

/**
 * One turn of runService's out-of-memory loop: the config with the next smaller micro-batch and the adjustment to
 * report. `midRun` (a step failed after training began) reports each restart on its own; at start, the adjustment
 * accumulates from the first config (`previous`). Throws OutOfMemoryError when rows cannot get shorter.
 */
export function smallerAfterOutOfMemory(
    current: { config: ResolvedRunConfig; prepared: Pick<PreparedDataset, "train" | "validation"> },
    failureMessage: string,
    midRun: boolean,
    previous: MemoryAdjustment | undefined
): { config: ResolvedRunConfig; adjustment: MemoryAdjustment } {
    const longest = longestSequence(current.prepared);
    const smaller = shrinkMicroBatch(current.config, longest);
    const L = current.config.sequenceLength;
    if (!smaller) {
        throw new OutOfMemoryError("OUT_OF_MEMORY", `${failureMessage}; the micro-batch is already the smallest the data allows ` +
            `(sequenceLength ${L}, the longest example has ${longest} tokens)`);
    }
    const reason = midRun
        ? `out of memory with sequenceLength ${L} (${failureMessage}); continuing from the last checkpoint ` +
            `with sequenceLength ${smaller.sequenceLength} and gradAccum ${smaller.gradAccum} (the same tokens per optimizer step)`
        : `out of memory while loading with sequenceLength ${L} (${failureMessage}); ` +
            `training with sequenceLength ${smaller.sequenceLength} and gradAccum ${smaller.gradAccum} instead (the same tokens per optimizer step)`;
    const adjustment: MemoryAdjustment = {
        reason,
        previousSequenceLength: midRun ? L : previous?.previousSequenceLength ?? L,
        previousGradAccum: midRun ? current.config.gradAccum : previous?.previousGradAccum ?? current.config.gradAccum,
        ...smaller
    };
    return { config: { ...current.config, ...smaller }, adjustment };
}

function sourceKey(source: { file: string; line: number }): string {
    return `${source.file}:${source.line}`;
}

/**
 * The cursor among rows of `toLength` that corresponds to `cursor` among rows of `fromLength`: the first new row
 * holding an example the old rows before the cursor did not. Both packings place the same shuffled examples
 * first-fit, so the new rows before it hold only trained examples. An example that first-fit placed early in the
 * old rows but late in the new ones can be trained once more; none is skipped.
 */
export function translateCursor(
    train: readonly TokenizedExample[],
    seed: number,
    cursor: { epoch: number; row: number },
    fromLength: number,
    toLength: number
): { epoch: number; row: number } {
    if (cursor.row === 0) return cursor;
    const oldRows = packEpoch(train, fromLength, seed, cursor.epoch);
    const trained = new Set<string>();
    for (const row of oldRows.slice(0, cursor.row)) for (const s of row.sources) trained.add(sourceKey(s));
    const newRows = packEpoch(train, toLength, seed, cursor.epoch);
    const row = newRows.findIndex((r) => r.sources.some((s) => !trained.has(sourceKey(s))));
    return { epoch: cursor.epoch, row: row < 0 ? newRows.length : row };
}
