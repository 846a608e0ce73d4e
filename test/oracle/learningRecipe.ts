// The training recipe the learning test uses on the tiny model (chosen by measurement; see the figures
// in makeTinyModel.ts). Kept apart so the benchmark and the demo can reuse the same numbers.
import type { AdapterOptions, OptimizerOptions } from "../../sidecar/src/engine";

export const LEARNING_RECIPE: { adapter: AdapterOptions; optimizer: OptimizerOptions; microBatchTokens: number } = {
    adapter: { rank: 8, alpha: 16, dropout: 0, seed: 1 },
    optimizer: {
        lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, gradClip: 1,
        schedule: "cosine", warmupSteps: 10, totalSteps: 300, gradAccum: 1
    },
    microBatchTokens: 256
};
