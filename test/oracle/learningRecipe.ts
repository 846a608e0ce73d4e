// The training recipe for the (pending) learning test, 30 facts packed in 3 micro-batches of ≤ 256 tokens.
// Measured 2026-11-22 with the engine on the shared, heavily loaded 2-core machine (load average ~12):
//   default tiny model (all weights N(0, 0.02²)), r=8, lr 1e-3 cosine, 150 steps: loss 10.4 → 6.65, 132 s;
//     lr 3e-3, 120 steps: 6.15; lr 1e-2: stuck at 8.4. The loss floor is the frozen random output head:
//     logit ≤ |h|·|w_out| ≈ 16 · 0.32 ≈ 5 against log-sum-exp ≈ 10.4 over 32k tokens.
//   same model with output.weight ~ N(0, (1/√n_embd)²): lr 3e-3, 120 steps: 10.9 → 0.043 (0.06 by step 90), 100 s.
// So the generator's output head should use std 1/√n_embd before this recipe is final.
import type { AdapterOptions, OptimizerOptions } from "../../sidecar/src/engine";

export const LEARNING_RECIPE: { adapter: AdapterOptions; optimizer: OptimizerOptions; microBatchTokens: number } = {
    adapter: { rank: 8, alpha: 16, dropout: 0, seed: 1 },
    optimizer: {
        lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, gradClip: 1,
        schedule: "cosine", warmupSteps: 10, totalSteps: 300, gradAccum: 1
    },
    microBatchTokens: 256
};
