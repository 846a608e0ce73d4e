// The sidecar process: a JSON-RPC server over stdio (see protocol/sidecar.ts) that the extension's
// SidecarSupervisor spawns with `node dist/sidecar.mjs`. Native code (the engine, llama.cpp) loads
// here and never in the extension host, so a crash costs a restart instead of the editor.
//
// Rules: nothing but JSON-RPC on stdout (rpc/stdioGuard.ts, imported first); a fatal error is written
// to stderr before exiting; the process exits when its stdin closes, i.e. when the extension ends it
// or dies.

import { protocolOutput } from "./rpc/stdioGuard";
import { createMessageConnection, StreamMessageWriter } from "vscode-jsonrpc/node";
import { FrameReader } from "./rpc/frameReader";
import { version as sidecarVersion } from "../../package.json";
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

// Our own frame reader (rpc/frameReader.ts), not vscode-jsonrpc's: garbage, a header without Content-Length or a
// Content-Length of -1 or 1e12 left that one deaf for good. Ours logs each problem, answers bad JSON with a JSON-RPC
// parse error and finds the next frame.
const writer = new StreamMessageWriter(protocolOutput);
const reader = new FrameReader(process.stdin, {
    reply: (response) => void writer.write(response).catch(() => undefined),
    log: (message) => process.stderr.write(`lora-studio sidecar: ${message}\n`)
});
const connection = createMessageConnection(reader, writer);

const server = registerSidecarServer(connection, { loadEngine, sidecarVersion });

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
/** For a test entry that adds requests before any message is read (test/integration/hookedSidecar.ts); nothing else. */
export const sidecarProcess = { connection, server };
process.stderr.write(`lora-studio sidecar ${sidecarVersion} listening on stdio (pid ${process.pid})\n`);
