// The learning-rate schedule, mirrored from sidecar/native/addon/engine_trainer.cpp (engine_lr_at) so that the
// PyTorch oracle and the UI can compute the same numbers.
import type { OptimizerOptions } from "./types";

/** The learning rate of optimizer update `step` (0-based). */
export function learningRateAt(opts: Pick<OptimizerOptions, "lr" | "schedule" | "warmupSteps" | "totalSteps">, step: number): number {
    if (step < opts.warmupSteps) return (opts.lr * (step + 1)) / opts.warmupSteps;
    const span = Math.max(1, opts.totalSteps - opts.warmupSteps);
    const progress = Math.min(1, (step - opts.warmupSteps) / span);
    switch (opts.schedule) {
        case "cosine":
            return opts.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
        case "linear":
            return opts.lr * (1 - progress);
        case "constant":
            return opts.lr;
    }
}
