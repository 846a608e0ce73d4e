// run/estimate: the pre-flight memory estimate of training a base model, as configured and with each preset, so
// the Start Training wizard can show "needs 4.2 GiB of 7.6 GiB free" next to every preset before a run starts.

import { freemem } from "node:os";
import { isAbsolute, resolve } from "node:path";
import type { MessageConnection } from "vscode-jsonrpc";
import {
    RunEstimateRequest,
    SidecarErrorCode,
    type MemoryEstimateInfo,
    type RunEstimateParams,
    type RunEstimateResult,
    type SidecarCapabilities
} from "../protocol/sidecar";
import { resolvedConfig } from "../training/config";
import { memoryBudget, ModelShapeError, planMemoryFit, readModelShape, type MemoryBudget, type ModelShape } from "../training/memoryEstimate";
import { applyPreset, detectPreset, isTrainingPresetId } from "../training/presets";
import { sidecarError } from "./errors";

export interface EstimateHandlerContext {
    requireEngine(): void;
    capabilities(): SidecarCapabilities;
    workspaceRoot(): string | undefined;
}

function estimateFor(shape: ModelShape, budget: MemoryBudget, settings: Record<string, unknown>, model: string): MemoryEstimateInfo {
    // The schema fills what the settings leave out; "data" is a placeholder the estimate never reads.
    const config = resolvedConfig({ ...settings, model, data: model }, "run/estimate settings");
    const decision = planMemoryFit({
        shape, budget, gradAccum: config.gradAccum,
        // Without the data the longest example is unknown: the estimate assumes rows may halve down to the minimum.
        minSequenceLength: 0,
        settings: { rank: config.rank, targetModules: config.targetModules, sequenceLength: config.sequenceLength, quantizeBase: config.quantizeBase }
    });
    const fits = decision.kind === "fits";
    return {
        totalBytes: (decision.kind === "shrunk" ? decision.original : decision.estimate).totalBytes,
        parts: (decision.kind === "shrunk" ? decision.original : decision.estimate).parts,
        fits,
        ...(decision.kind === "shrunk" ? { shrinksTo: { sequenceLength: decision.sequenceLength, gradAccum: decision.gradAccum } } : {})
    };
}

export function estimateRun(params: RunEstimateParams, context: EstimateHandlerContext): RunEstimateResult {
    context.requireEngine();
    if (typeof params?.model !== "string" || params.model === "") {
        throw sidecarError(SidecarErrorCode.InvalidParams, `run/estimate: "model" must be a non-empty path`, "Pass the base model's GGUF path.");
    }
    const root = context.workspaceRoot();
    const model = isAbsolute(params.model) || root === undefined ? params.model : resolve(root, params.model);
    const presets = params.presets ?? [];
    for (const id of presets) {
        if (!isTrainingPresetId(id)) throw sidecarError(SidecarErrorCode.InvalidParams, `run/estimate: unknown preset ${JSON.stringify(id)}`, "Use gpu-6gb, gpu-12gb, gpu-24gb or cpu.");
    }
    let shape: ModelShape;
    try {
        shape = readModelShape(model);
    } catch (error) {
        const hint = error instanceof ModelShapeError ? "The model's GGUF header lacks what the estimate needs." : "Check the model path.";
        throw sidecarError(SidecarErrorCode.InvalidParams, (error as Error).message, hint);
    }
    const capabilities = context.capabilities();
    const budget = memoryBudget(capabilities, freemem());
    const settings = { ...(params.settings ?? {}) } as Record<string, unknown>;
    try {
        return {
            device: budget.device,
            deviceName: budget.deviceName,
            availableBytes: budget.availableBytes,
            estimate: estimateFor(shape, budget, settings, model),
            presets: presets.map((id) => ({ id, estimate: estimateFor(shape, budget, applyPreset(settings, id), model) })),
            detectedPreset: detectPreset({ cuda: capabilities.cuda, ...(capabilities.devices[0] ? { totalBytes: capabilities.devices[0].totalBytes } : {}) })
        };
    } catch (error) {
        throw sidecarError(SidecarErrorCode.InvalidParams, (error as Error).message, "Fix the named settings (see schemas/run-config.schema.json).");
    }
}

export function registerEstimateHandlers(connection: MessageConnection, context: EstimateHandlerContext): void {
    connection.onRequest(RunEstimateRequest.type, (params) => estimateRun(params, context));
}
