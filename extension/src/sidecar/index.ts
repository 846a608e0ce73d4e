// The extension's handle on the sidecar. extension.ts wires createSidecarSupervisor in and, in
// deactivate(), returns `supervisor.stop()` so the sidecar checkpoints and exits cleanly.

export { createSidecarSupervisor, RESTART_SIDECAR_COMMAND, RESUME_RUN_COMMAND } from "./vscodeSupervisor";
export * from "./supervisor";
export * from "./errors";
