// The model + adapter pairs the chat panel offers: finished runs of the workspace, newest first, each with
// its base model (from the run's config.json) and its adapter.gguf. The newest one is the default.
import { isAbsolute, join, resolve } from "node:path";
import { RunGetRequest, RunListRequest } from "../../../sidecar/src/protocol/sidecar";
import type { RunChoice } from "../../../sidecar/src/protocol/chatWebview";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { describeChatError } from "./chatClient";

/** Runs offered in the picker; older ones can still be chosen by path. */
const MAX_RUN_CHOICES = 10;

export async function finishedRunChoices(supervisor: SidecarSupervisor, workspaceRoot: string | undefined): Promise<{ runs: RunChoice[]; note?: string }> {
    if (!workspaceRoot) return { runs: [], note: "No folder is open, so there are no runs to pick: choose a model and an adapter by path." };
    try {
        const { runs } = await supervisor.sendRequest(RunListRequest.type);
        const finished = runs.filter((r) => r.state === "finished").slice(0, MAX_RUN_CHOICES);
        const choices = await Promise.all(
            finished.map(async (run): Promise<RunChoice> => {
                const { runDirectory, config } = await supervisor.sendRequest(RunGetRequest.type, { runId: run.runId });
                const model = isAbsolute(config.model) ? config.model : resolve(workspaceRoot, config.model);
                return { runId: run.runId, label: `${run.runId} (${run.updatedAt.slice(0, 16).replace("T", " ")})`, model, adapter: join(runDirectory, "adapter.gguf") };
            })
        );
        return choices.length > 0 ? { runs: choices } : { runs: [], note: "No finished training run yet: choose a model (and an adapter) by path." };
    } catch (error) {
        return { runs: [], note: `Could not list the runs: ${describeChatError(error)}` };
    }
}
