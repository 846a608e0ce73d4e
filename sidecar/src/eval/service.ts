// Evaluation as a service that knows nothing of JSON-RPC: which run or files an eval/run request evaluates, one
// evaluation per evalId at a time, and cancel by evalId. rpc/evalHandlers.ts maps it to eval/run, eval/cancel and
// eval/progress, as rpc/chatHandlers.ts does for chat/service.ts; the evaluation itself is eval/runner.ts, which
// `lora-studio eval` calls directly.
import type { EvalReport, EvalRunParams } from "../protocol/sidecar";
import { namedRun } from "../training/namedRun";
import type { RunStore } from "../training/runStore";
import { runEval, type EvalOptions, type EvalProgress } from "./runner";

/** A request the service cannot act on (a second evaluation under a running evalId, nothing to evaluate). */
export class EvalRequestError extends Error {
    override name = "EvalRequestError";
}

export interface EvalServiceDependencies {
    /** The workspace's runs, for a request that names a run by id; undefined without a folder. */
    runStore(): RunStore | undefined;
    /** The evaluation: runEval (eval/runner.ts); unit tests, which load no model, substitute it. */
    evaluate?(options: EvalOptions): Promise<EvalReport>;
}

/** The request's fields that go to the runner as they are. */
const RUNNER_FIELDS = ["model", "adapter", "data", "outDir", "maxTokens", "limit", "threads"] as const;

export class EvalService {
    /** Running evaluations by evalId, for cancel. */
    private readonly running = new Map<string, AbortController>();

    constructor(private readonly deps: EvalServiceDependencies) {}

    /**
     * Evaluates a run (runId, runDirectory) or explicit files, reporting each scored example to `onProgress`. A cancelled
     * evaluation answers with the rows scored so far and `cancelled: true`. Throws EvalRequestError, NoWorkspaceError,
     * RunNotFoundError, and the runner's EvalInputError and ParamError.
     */
    async run(request: EvalRunParams, onProgress?: (progress: EvalProgress) => void): Promise<EvalReport> {
        const hasRun = request.runId !== undefined || request.runDirectory !== undefined;
        if (!hasRun && (request.model === undefined || request.adapter === undefined || request.data === undefined)) {
            throw new EvalRequestError("an evaluation needs a run (runId or runDirectory) or all of model, adapter and data");
        }
        if (this.running.has(request.evalId)) throw new EvalRequestError(`an evaluation with evalId ${JSON.stringify(request.evalId)} is already running; use a new evalId per request`);
        const run = namedRun(request, this.deps.runStore());
        const abort = new AbortController();
        this.running.set(request.evalId, abort);
        const options: EvalOptions = { signal: abort.signal, ...(onProgress ? { onProgress } : {}), ...(run ? { runDirectory: run.path } : {}) };
        for (const field of RUNNER_FIELDS) {
            if (request[field] !== undefined) (options as Record<string, unknown>)[field] = request[field];
        }
        try {
            return await (this.deps.evaluate ?? runEval)(options);
        } finally {
            this.running.delete(request.evalId);
        }
    }

    /** Stops the evaluation after its current answer; false when none runs under `evalId`. */
    cancel(evalId: string): boolean {
        const abort = this.running.get(evalId);
        abort?.abort();
        return abort !== undefined;
    }

    /** Stops every running evaluation (shutdown). */
    cancelAll(): void {
        for (const abort of this.running.values()) abort.abort();
    }
}
