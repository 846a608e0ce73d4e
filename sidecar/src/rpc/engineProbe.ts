// Loads the native engine for `initialize` and turns the outcome into capabilities. A failure to load
// is not fatal: the sidecar still answers (run lists, dataset checks) and reports why the engine is
// unavailable, so the extension can tell the user what to do instead of crashing.

import { describeBackend } from "../engine/backend";
import type { DeviceInfo, SidecarCapabilities } from "../protocol/sidecar";

/** The part of the engine binding `initialize` needs (see sidecar/src/engine/). */
export interface EngineIdentity {
    version: string;
    capabilities(): { cpu: boolean; cuda: boolean; devices: DeviceInfo[]; cudaBuilt?: boolean; nvidiaDriver?: boolean };
}

export type EngineLoader = () => Promise<EngineIdentity> | EngineIdentity;

export interface EngineProbeResult {
    engineVersion: string | null;
    capabilities: SidecarCapabilities;
    engine: EngineIdentity | undefined;
}

export async function probeEngine(load: EngineLoader): Promise<EngineProbeResult> {
    try {
        const engine = await load();
        const reported = engine.capabilities();
        return {
            engineVersion: engine.version,
            capabilities: {
                cpu: true, cuda: reported.cuda, devices: reported.devices, engineAvailable: true,
                backend: describeBackend({ ...reported, cudaBuilt: reported.cudaBuilt ?? false, nvidiaDriver: reported.nvidiaDriver ?? false })
            },
            engine
        };
    } catch (error) {
        return {
            engineVersion: null,
            capabilities: { cpu: true, cuda: false, devices: [], engineAvailable: false, engineError: describeLoadError(error) },
            engine: undefined
        };
    }
}

function describeLoadError(error: unknown): string {
    // The engine's own errors already say how to build it; add only how to pick the fix up.
    const message = (error instanceof Error ? error.message : String(error)).replace(/\.\s*$/, "");
    return `The native training engine could not be loaded: ${message}. Then run "LoRA Studio: Restart Sidecar".`;
}
