// The run a request names instead of explicit files: its own folder (runDirectory, e.g. a CLI run's --out), or runId
// among the workspace's runs. Evaluation and export both take a run this way (eval/service.ts, export/runInputs.ts).
import { resolve } from "node:path";
import { RunDirectory, type RunStore } from "./runStore";

/** A run named by id, and no workspace folder is open to hold `.lora-studio/runs/`. */
export class NoWorkspaceError extends Error {
    override name = "NoWorkspaceError";
}

/**
 * The run folder `request` names, or undefined when it names none. A runId that is not a run of `store` throws
 * RunNotFoundError (runStore.ts); a runId without a store, NoWorkspaceError.
 */
export function namedRun(request: { runId?: string | undefined; runDirectory?: string | undefined }, store: RunStore | undefined): RunDirectory | undefined {
    if (request.runDirectory !== undefined) return new RunDirectory(resolve(request.runDirectory));
    if (request.runId === undefined) return undefined;
    if (!store) throw new NoWorkspaceError("No workspace folder is open, so there is no .lora-studio/runs/ to find the run in");
    return store.openRun(request.runId);
}
