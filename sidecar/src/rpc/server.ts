// The sidecar's JSON-RPC surface: registers one handler per request of protocol/sidecar.ts on a
// connection. Enforces the handshake (`initialize` first, exactly once, same PROTOCOL_VERSION), the
// workspace-trust rule (no training or model loading when untrusted) and `shutdown`. Transport-free:
// main.ts gives it a stdio connection, tests may give it any other.

import type { MessageConnection } from "vscode-jsonrpc";
import {
    InitializeRequest,
    type InitializeParams,
    type InitializeResult,
    LogNotification,
    type LogLevel,
    PROTOCOL_VERSION,
    RunGetRequest,
    RunListRequest,
    ShutdownRequest,
    SidecarErrorCode
} from "../protocol/sidecar";
import { RunStore } from "../training/runStore";
import { type EngineLoader, type EngineProbeResult, probeEngine } from "./engineProbe";
import { sidecarError } from "./errors";
import { getRun, listRuns } from "./runHandlers";
import { notifyingEvents, registerTrainingHandlers } from "./trainingHandlers";
import type { Engine } from "../engine";
import { registerDatasetHandlers } from "./datasetHandlers";
import { registerEstimateHandlers } from "./estimateHandlers";
import { TrainingRunService } from "../training/runService";
import { registerChatHandlers } from "./chatHandlers";
import { registerEvalHandlers } from "./evalHandlers";
import { registerExportHandlers } from "./exportHandlers";
import { registerImportHandlers } from "./importHandlers";
import { registerImportAdapterHandlers } from "./importAdapterHandlers";
import { registerModelHandlers } from "./modelHandlers";

export interface SidecarServerOptions {
    loadEngine: EngineLoader;
    sidecarVersion: string;
    /** Called on `shutdown`, before the answer: stop training and checkpoint. */
    onShutdown?: () => Promise<void> | void;
}

export interface SidecarServer {
    readonly shutdownRequested: boolean;
    /** `initialize` has been answered. */
    readonly initialized: boolean;
    log(level: LogLevel, message: string): void;
}

interface Session {
    params: InitializeParams;
    probe: EngineProbeResult;
    runStore: RunStore | undefined;
}

export function registerSidecarServer(connection: MessageConnection, options: SidecarServerOptions): SidecarServer {
    let session: Session | undefined;
    let initializing = false;
    let shutdownRequested = false;

    const requireSession = (): Session => {
        if (shutdownRequested) {
            throw sidecarError(SidecarErrorCode.ShuttingDown, "The sidecar is shutting down", "Retry; the extension starts a new sidecar on demand.");
        }
        if (!session) {
            throw sidecarError(SidecarErrorCode.NotInitialized, "The sidecar has not been initialized: send \"initialize\" first", "Send initialize as the first request.");
        }
        return session;
    };
    const requireRunStore = (): RunStore => {
        const { runStore } = requireSession();
        if (!runStore) {
            throw sidecarError(SidecarErrorCode.NoWorkspace, "No workspace folder is open, so there is no .lora-studio/runs/ to use", "Open a folder, then try again.");
        }
        return runStore;
    };
    /** Loading a model (chat, eval) needs a trusted workspace; node-llama-cpp does the work, not our engine. */
    const requireTrust = (): Session => {
        const current = requireSession();
        if (!current.params.workspaceTrusted) {
            throw sidecarError(
                SidecarErrorCode.WorkspaceUntrusted,
                "Training and model loading are disabled in an untrusted workspace",
                "Trust this workspace (Workspaces: Manage Workspace Trust) to train; dataset validation still works."
            );
        }
        return current;
    };
    /** Training, quantizing and merging also need the native engine. */
    const requireEngine = (): void => {
        const current = requireTrust();
        if (!current.probe.capabilities.engineAvailable) {
            throw sidecarError(SidecarErrorCode.EngineUnavailable, current.probe.capabilities.engineError ?? "The native engine is unavailable", "See the LoRA Studio Sidecar output.");
        }
    };

    connection.onRequest(InitializeRequest.type, async (params): Promise<InitializeResult> => {
        if (session || initializing) {
            throw sidecarError(SidecarErrorCode.AlreadyInitialized, "initialize was already received on this connection", "Send initialize once per sidecar process.");
        }
        if (params?.protocolVersion !== PROTOCOL_VERSION) {
            throw sidecarError(
                SidecarErrorCode.ProtocolMismatch,
                `Protocol version mismatch: the client speaks ${JSON.stringify(params?.protocolVersion)}, this sidecar speaks ${PROTOCOL_VERSION}`,
                "Rebuild LoRA Studio (npm run build) so the extension and dist/sidecar.mjs match."
            );
        }
        initializing = true;
        try {
            const probe = await probeEngine(options.loadEngine);
            const runStore = typeof params.workspaceRoot === "string" && params.workspaceRoot !== "" ? new RunStore(params.workspaceRoot) : undefined;
            session = { params, probe, runStore };
            log("info", `initialized for ${params.clientName}; engine ${probe.engineVersion ?? `unavailable: ${probe.capabilities.engineError}`}`);
            if (probe.capabilities.backend) log("info", `training backend: ${probe.capabilities.backend.description}`);
            return { protocolVersion: PROTOCOL_VERSION, engineVersion: probe.engineVersion, sidecarVersion: options.sidecarVersion, capabilities: probe.capabilities };
        } finally {
            initializing = false;
        }
    });

    connection.onRequest(ShutdownRequest.type, async () => {
        if (shutdownRequested) return;
        shutdownRequested = true;
        await training.cancelAll();
        await chat.closeAll();
        await evaluation.cancelAll();
        models.cancelAll();
        await options.onShutdown?.();
    });

    connection.onRequest(RunListRequest.type, () => listRuns(requireRunStore()));
    connection.onRequest(RunGetRequest.type, (params) => getRun(requireRunStore(), params));

    // dataset/prepare and run/estimate (datasetHandlers.ts, estimateHandlers.ts); run/start, run/resume and run/cancel drive training/trainer.ts.
    const workspaceRoot = (): string | undefined => requireSession().params.workspaceRoot || undefined;
    registerDatasetHandlers(connection, { requireEngine, workspaceRoot });
    registerEstimateHandlers(connection, { requireEngine, workspaceRoot, capabilities: () => requireSession().probe.capabilities });
    const training = new TrainingRunService(
        {
            engine: async () => requireSession().probe.engine as Engine,
            // Named in each run folder's lock, so another process refused that folder learns who trains it.
            owner: () => ({ kind: requireSession().params.clientKind ?? "editor", client: requireSession().params.clientName })
        },
        notifyingEvents(connection)
    );
    registerTrainingHandlers(connection, training, {
        requireEngine,
        requireSession: () => void requireSession(),
        runStore: () => requireSession().runStore,
        requireRunStore
    });

    // Chat and evaluation run on node-llama-cpp, so a missing native engine does not block them; trust does.
    const chat = registerChatHandlers(connection, { requireSession: () => void requireSession(), requireEngine: () => void requireTrust() });
    const evaluation = registerEvalHandlers(connection, { requireEngine: () => void requireTrust(), runStore: () => requireSession().runStore });
    registerExportHandlers(connection, { requireEngine, engine: () => requireSession().probe.engine as Engine, runStore: () => requireSession().runStore, workspaceRoot });
    // Dataset import reads and writes files only (no model, no engine): it works in an untrusted workspace too.
    registerImportHandlers(connection, { requireSession: () => void requireSession() });
    registerImportAdapterHandlers(connection, { requireTrust: () => void requireTrust() });

    // Base models (issue 14): listing reads headers only; pulling writes a download, so it needs trust, not the engine.
    const models = registerModelHandlers(connection, { requireSession: () => void requireSession(), requireTrust: () => void requireTrust(), capabilities: () => requireSession().probe.capabilities, workspaceRoot });

    function log(level: LogLevel, message: string): void {
        void connection.sendNotification(LogNotification.type, { level, message }).catch(() => {
            // The pipe is gone; main.ts exits on close.
        });
    }

    return {
        get shutdownRequested() {
            return shutdownRequested;
        },
        get initialized() {
            return session !== undefined;
        },
        log
    };
}
