// The pre-flight memory check of a run about to start: the estimate (memoryEstimate.ts) of the config against what the
// device has free, with the shortest rows the data allows. Refuses a run that cannot fit, or gives the smaller
// micro-batch it trains with. A model whose shape cannot be read is not refused here: the run-config check has already
// put the file through the load guard, and the trainer's load reports anything else.
import type { PreparedDataset } from "../pipeline";
import type { MemoryAdjustment } from "../protocol/sidecar";
import type { ResolvedRunConfig } from "./config";
import { memoryBudget, planMemoryFit, type ModelShape } from "./memoryEstimate";
import { longestSequence } from "./oomRecovery";

export type PreflightDecision =
    | { kind: "fits" }
    | { kind: "skipped"; reason: string }
    | { kind: "shrunk"; adjustment: MemoryAdjustment }
    | { kind: "refused"; message: string; hint: string };

export interface PreflightProbes {
    capabilities: Parameters<typeof memoryBudget>[0];
    /** Free host memory in bytes. */
    freeMemory(): number;
    /** The model's shape from its GGUF header. */
    modelShape(path: string): ModelShape;
}

export function preflightMemory(config: ResolvedRunConfig, prepared: PreparedDataset, probes: PreflightProbes): PreflightDecision {
    let shape: ModelShape;
    try {
        shape = probes.modelShape(config.model);
    } catch (error) {
        return { kind: "skipped", reason: (error as Error).message };
    }
    const decision = planMemoryFit({
        shape, budget: memoryBudget(probes.capabilities, probes.freeMemory()), gradAccum: config.gradAccum, minSequenceLength: longestSequence(prepared),
        settings: { rank: config.rank, targetModules: config.targetModules, sequenceLength: config.sequenceLength, quantizeBase: config.quantizeBase }
    });
    if (decision.kind === "refused") return { kind: "refused", message: decision.message, hint: decision.hint };
    if (decision.kind === "fits") return { kind: "fits" };
    return {
        kind: "shrunk",
        adjustment: {
            reason: decision.message, previousSequenceLength: config.sequenceLength, previousGradAccum: config.gradAccum,
            sequenceLength: decision.sequenceLength, gradAccum: decision.gradAccum
        }
    };
}
