// The training feature's command and view ids, named once (package.json contributes the same strings).
import { RESUME_RUN_COMMAND } from "../sidecar/vscodeSupervisor";

export const TRAINING_COMMANDS = {
    trainFromConfig: "loraStudio.trainFromConfig",
    cancel: "loraStudio.cancelTraining",
    /** The sidecar supervisor's crash message runs it with the interrupted run's id. */
    resume: RESUME_RUN_COMMAND,
    showRuns: "loraStudio.showRuns",
    showProgress: "loraStudio.showProgress",
    refreshRuns: "loraStudio.refreshRuns",
    revealAdapter: "loraStudio.revealAdapter"
} as const;

export const RUNS_VIEW_ID = "loraStudio.runs";
