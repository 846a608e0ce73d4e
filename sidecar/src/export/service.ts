// Export as a service that knows nothing of JSON-RPC: an export/run request's inputs (runInputs.ts: a run or explicit
// files) exported by runExport (index.ts), with the engine's quantizer for quantized merged models.
// rpc/exportHandlers.ts maps it to export/run and its errors, as rpc/chatHandlers.ts does for chat/service.ts.
import type { ExportRunParams } from "../protocol/sidecar";
import type { RunStore } from "../training/runStore";
import { runExport, type ExportResult } from "./index";
import type { Quantize } from "./merged";
import { exportInputsFor } from "./runInputs";

export interface ExportServiceDependencies {
    /** The workspace's runs, for a request that names a run by id; undefined without a folder. */
    runStore(): RunStore | undefined;
    /** Relative model paths in a run's config resolve against it. */
    workspaceRoot(): string | undefined;
    /** The engine's quantizeModel; asked only for a merged model of type q8_0, q4_0 or q4_k_m. */
    quantize: Quantize;
}

export class ExportService {
    constructor(private readonly deps: ExportServiceDependencies) {}

    /**
     * Writes the export; resolves with the files written and any warnings (an adapter recorded for another base of the
     * same shape). Throws ExportRequestError, NoWorkspaceError, RunNotFoundError, ExportInputError (an adapter that does
     * not fit the base, a damaged file) and ExportTargetExistsError (an existing output without overwrite).
     */
    async run(request: ExportRunParams): Promise<ExportResult> {
        return runExport({ ...exportInputsFor(request, this.deps.runStore(), this.deps.workspaceRoot()), quantize: this.deps.quantize });
    }
}
