// run/list and run/get over the workspace's run store. Training itself (run/start, run/cancel,
// run/resume) is wired to the engine elsewhere; see server.ts.

import type { RunGetParams, RunGetResult, RunListResult } from "../protocol/sidecar";
import { SidecarErrorCode } from "../protocol/sidecar";
import { RunStore } from "../training/runStore";
import { sidecarError, toRunStoreResponseError } from "./errors";

export function listRuns(store: RunStore): RunListResult {
    try {
        return { runs: store.listRuns() };
    } catch (error) {
        return toRunStoreResponseError(error);
    }
}

export function getRun(store: RunStore, params: RunGetParams): RunGetResult {
    if (typeof params?.runId !== "string" || params.runId === "") {
        throw sidecarError(SidecarErrorCode.InvalidParams, `run/get: "runId" must be a non-empty string`, "Pass the id of a run from run/list.");
    }
    try {
        const run = store.openRun(params.runId);
        const result: RunGetResult = {
            summary: run.summary(),
            runDirectory: run.path,
            config: run.readConfig(),
            datasetSha256: run.readDatasetSha256()
        };
        if (params.includeMetrics) {
            const { records, tornTail } = run.readMetrics();
            result.metrics = records;
            result.metricsTornTail = tornTail;
        }
        return result;
    } catch (error) {
        return toRunStoreResponseError(error);
    }
}
