// dataset/prepare: the training-data pipeline (normalize, render with the model's chat template, mask, split,
// pack) run on files without training, so the extension and the CLI can show what a run would train on.

import { isAbsolute, resolve } from "node:path";
import type { MessageConnection } from "vscode-jsonrpc";
import { PipelineError, prepareDatasetFiles } from "../pipeline";
import { DatasetPrepareRequest, SidecarErrorCode, type DatasetPrepareParams, type DatasetPrepareResult } from "../protocol/sidecar";
import { prepareOptionsFor, resolvedConfig } from "../training/config";
import { sidecarError } from "./errors";

export interface DatasetHandlerContext {
    /** Throws the typed error when the workspace is untrusted or the engine is missing (loading a model's vocabulary runs native code). */
    requireEngine(): void;
    /** The workspace folder relative paths resolve against, if any. */
    workspaceRoot(): string | undefined;
}

function pathParam(params: DatasetPrepareParams, field: "model" | "data" | "validationData", root: string | undefined): string | undefined {
    const value = params[field];
    if (value === undefined && field === "validationData") return undefined;
    if (typeof value !== "string" || value === "") {
        throw sidecarError(SidecarErrorCode.InvalidParams, `dataset/prepare: "${field}" must be a non-empty path`, "Pass the file's path.");
    }
    if (isAbsolute(value)) return value;
    if (root === undefined) throw sidecarError(SidecarErrorCode.InvalidParams, `dataset/prepare: "${field}" is relative (${value}) and no workspace folder is open`, "Pass an absolute path.");
    return resolve(root, value);
}

export async function prepareDataset(params: DatasetPrepareParams, context: DatasetHandlerContext): Promise<DatasetPrepareResult> {
    context.requireEngine();
    if (typeof params !== "object" || params === null) throw sidecarError(SidecarErrorCode.InvalidParams, "dataset/prepare: params must be an object", "Pass {model, data}.");
    const root = context.workspaceRoot();
    const model = pathParam(params, "model", root)!;
    const data = pathParam(params, "data", root)!;
    const validationData = pathParam(params, "validationData", root);
    // The run config's schema checks the numbers and fills the defaults, so a prepare matches what run/start would train.
    let config;
    try {
        config = resolvedConfig({
            model, data,
            ...(validationData === undefined ? {} : { validationData }),
            ...(params.validationSplit === undefined ? {} : { validationSplit: params.validationSplit }),
            ...(params.contextLength === undefined ? {} : { sequenceLength: params.contextLength }),
            ...(params.seed === undefined ? {} : { seed: params.seed })
        }, "dataset/prepare params");
    } catch (error) {
        throw sidecarError(SidecarErrorCode.InvalidParams, (error as Error).message.replace(/sequenceLength/g, "contextLength"), "Fix the named fields.");
    }
    try {
        const prepared = await prepareDatasetFiles(prepareOptionsFor(config));
        return prepared.summary;
    } catch (error) {
        if (error instanceof PipelineError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Fix the listed lines (lora-studio validate shows them all).");
        throw sidecarError(SidecarErrorCode.InvalidParams, (error as Error).message, "Check the model and data paths.");
    }
}

export function registerDatasetHandlers(connection: MessageConnection, context: DatasetHandlerContext): void {
    connection.onRequest(DatasetPrepareRequest.type, (params) => prepareDataset(params, context));
}
