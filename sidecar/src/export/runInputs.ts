// What an export/run request exports: the adapter and base model it names, directly or through a run (the run's
// adapter.gguf and its config's base model, explicit paths overriding them), the merged type's default, and the
// output path's default beside the run's adapter. The export itself is runExport (index.ts).
import { isAbsolute, join, resolve } from "node:path";
import type { ExportRunParams } from "../protocol/sidecar";
import { namedRun } from "../training/namedRun";
import type { RunStore } from "../training/runStore";
import { defaultExportPath, type ExportOptions } from "./index";

/** A request the export cannot act on as it stands (an option of another format, nothing to export). */
export class ExportRequestError extends Error {
    override name = "ExportRequestError";
}

/**
 * The options runExport takes (all but the engine's quantize). `workspaceRoot` resolves a relative model path in a
 * run's config, as training and the chat panel read it. Throws ExportRequestError, NoWorkspaceError, RunNotFoundError
 * and the run store's errors for an unreadable config.
 */
export function exportInputsFor(request: ExportRunParams, store: RunStore | undefined, workspaceRoot: string | undefined): Omit<ExportOptions, "quantize"> {
    if (request.type !== undefined && request.format !== "merged") throw new ExportRequestError(`"type" applies to format "merged" only, got format ${JSON.stringify(request.format)}`);
    if (request.dtype !== undefined && request.format !== "peft") throw new ExportRequestError(`"dtype" applies to format "peft" only, got format ${JSON.stringify(request.format)}`);
    for (const field of ["baseModelRepo", "gpus", "strategy"] as const) {
        if (request[field] !== undefined && request.format !== "axolotl") throw new ExportRequestError(`"${field}" applies to format "axolotl" only, got format ${JSON.stringify(request.format)}`);
    }
    const run = namedRun(request, store);
    if (request.format === "axolotl" && !run) throw new ExportRequestError("an Axolotl export needs a run (runId or runDirectory): it carries the run's settings and data");
    const adapter = request.adapter ?? run?.adapterPath;
    let model = request.model;
    if (model === undefined && run) {
        const configured = run.readConfig().model;
        model = isAbsolute(configured) ? configured : resolve(workspaceRoot ?? run.path, configured);
    }
    if (adapter === undefined || model === undefined) throw new ExportRequestError("an export needs a run (runId or runDirectory) or both adapter and model");
    const type = request.type ?? (request.format === "merged" ? "f16" : undefined);
    const out = request.out ?? defaultExportPath(run ? join(run.path, "adapter.gguf") : adapter, request.format, type, request.dtype);
    return {
        format: request.format, model, adapter, out,
        ...(type ? { type } : {}),
        ...(request.system ? { system: request.system } : {}),
        ...(request.dtype ? { dtype: request.dtype } : {}),
        ...(request.baseModelId ? { baseModelId: request.baseModelId } : {}),
        ...(request.baseModelRepo !== undefined ? { baseModelRepo: request.baseModelRepo } : {}),
        ...(request.gpus !== undefined ? { gpus: request.gpus } : {}),
        ...(request.strategy !== undefined ? { strategy: request.strategy } : {}),
        ...(request.overwrite ? { overwrite: true } : {}),
        // Relative data paths in a run's config resolve as its model path does.
        ...(run ? { runDirectory: run.path, dataRoot: workspaceRoot ?? run.path } : {})
    };
}
