// The sidecar process: a JSON-RPC server over stdio (see protocol/sidecar.ts) that the extension's
// SidecarSupervisor spawns with `node dist/sidecar.mjs`. Native code (the engine, llama.cpp) loads
// here and never in the extension host, so a crash costs a restart instead of the editor.
//
// Rules: nothing but JSON-RPC on stdout (rpc/stdioGuard.ts, imported first); a fatal error is written
// to stderr before exiting; the process exits when its stdin closes, i.e. when the extension ends it
// or dies.

import { protocolOutput } from "./rpc/stdioGuard";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";
import { version as sidecarVersion } from "../../package.json";
import { TEST_HOOKS_ENV_VAR } from "./protocol/sidecar";
import type { EngineLoader } from "./rpc/engineProbe";
import { registerSidecarServer } from "./rpc/server";
import { loadEngine as loadNativeEngine } from "./engine";

/** Exit codes, so the supervisor's log says which way the sidecar ended. */
const EXIT_OK = 0;
/** stdin closed without a shutdown request: the extension host went away. */
const EXIT_ORPHANED = 3;
const EXIT_FATAL = 70;

function fatal(kind: string, error: unknown): never {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`lora-studio sidecar: ${kind}: ${detail}\n`);
    process.exit(EXIT_FATAL);
}
process.on("uncaughtException", (error) => fatal("uncaught exception", error));
process.on("unhandledRejection", (reason) => fatal("unhandled promise rejection", reason));

// Loaded at initialize, not at import: a missing or broken addon must not stop the sidecar from
// answering, only make initialize report the engine as unavailable with the reason.
const loadEngine: EngineLoader = () => loadNativeEngine();

// Ctrl+C in a terminal signals the whole process group: the CLI in front of us turns it into run/cancel
// (checkpoint + adapter), which needs this process alive. Our life ends when stdin closes.
process.on("SIGINT", () => undefined);

const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(protocolOutput));

const server = registerSidecarServer(connection, {
    loadEngine,
    sidecarVersion,
    testHooks: process.env[TEST_HOOKS_ENV_VAR] === "1"
});

let exiting = false;
function exitWhenInputEnds(): void {
    if (exiting) return;
    exiting = true;
    process.exit(server.shutdownRequested ? EXIT_OK : EXIT_ORPHANED);
}
connection.onClose(exitWhenInputEnds);
process.stdin.on("end", exitWhenInputEnds);
connection.onError(([error]) => process.stderr.write(`lora-studio sidecar: connection error: ${error.message}\n`));

connection.listen();
process.stderr.write(`lora-studio sidecar ${sidecarVersion} listening on stdio (pid ${process.pid})\n`);
