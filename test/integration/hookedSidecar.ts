// The test build of the sidecar: the real process (sidecar/src/main.ts, its stdio guard, exit codes and server),
// plus the debug requests of sidecarTestHooks.ts, registered before the first message is read. Built by
// scripts/build.mjs to out/test/integration/hookedSidecar.mjs; the production dist/sidecar.mjs has none of them.
import { sidecarProcess } from "../../sidecar/src/main";
import { registerTestHooks } from "./sidecarTestHooks";

registerTestHooks(sidecarProcess.connection, () => sidecarProcess.server.initialized);
