// Starts the real dataset language server (`node dist/server.js --stdio`) as a child process and talks LSP to it
// with vscode-languageserver-protocol. Waiting is event-driven: every wait resolves on a server message.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
    ConfigurationRequest,
    createProtocolConnection,
    ExitNotification,
    InitializedNotification,
    InitializeRequest,
    PublishDiagnosticsNotification,
    RegistrationRequest,
    ShutdownRequest,
    ShowMessageNotification,
    StreamMessageReader,
    StreamMessageWriter,
    DidOpenTextDocumentNotification,
    type Diagnostic,
    type ProtocolConnection,
    type PublishDiagnosticsParams
} from "vscode-languageserver-protocol/node";
import type { DatasetSettings } from "../../sidecar/src/protocol/languageServer";

/** The repository root, found from this bundle's location (out/test/integration/… or test/integration/…). */
export function repoRoot(): string {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, "package.json"))) {
        const up = dirname(dir);
        if (up === dir) throw new Error("languageServerHarness: package.json not found above the test file");
        dir = up;
    }
    return dir;
}

export interface ServerHarness {
    connection: ProtocolConnection;
    child: ChildProcess;
    stderr: () => string;
    warnings: string[];
    /** Resolves with the first publish for `uri` (already received since the last call, or next) that satisfies `accept`. */
    diagnostics(uri: string, accept?: (p: PublishDiagnosticsParams) => boolean): Promise<PublishDiagnosticsParams>;
    /** Every publish received so far, in order (tests that check ordering between documents use it). */
    events: { kind: "diagnostics"; uri: string; count: number }[];
    open(uri: string, text: string, version?: number): void;
    stop(): Promise<void>;
}

export async function startServer(settings: Partial<DatasetSettings> = {}): Promise<ServerHarness> {
    const root = repoRoot();
    const serverPath = join(root, "dist", "server.js");
    if (!existsSync(serverPath)) throw new Error(`${serverPath} is missing; run \`npm run build\` first`);
    const child = spawn(process.execPath, [serverPath, "--stdio"], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));

    const received: PublishDiagnosticsParams[] = [];
    const waiters: { uri: string; accept: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
    const events: ServerHarness["events"] = [];
    const warnings: string[] = [];
    connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
        events.push({ kind: "diagnostics", uri: params.uri, count: params.diagnostics.length });
        const waiter = waiters.findIndex((w) => w.uri === params.uri && w.accept(params));
        if (waiter >= 0) waiters.splice(waiter, 1)[0]!.resolve(params);
        else received.push(params);
    });
    connection.onNotification(ShowMessageNotification.type, (params) => warnings.push(params.message));
    connection.onRequest(ConfigurationRequest.type, (params) => params.items.map(() => settings));
    connection.onRequest(RegistrationRequest.type, () => null);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    connection.listen();

    // A server that dies on start (a broken bundle) must fail the test with its stderr, not leave it pending.
    const diedEarly = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`the language server exited (${code}) during initialize:\n${stderr}`))));
    await Promise.race([diedEarly, connection.sendRequest(InitializeRequest.type, {
        processId: process.pid,
        rootUri: pathToFileURL(root).href,
        workspaceFolders: [{ uri: pathToFileURL(root).href, name: "root" }],
        capabilities: {
            workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true } },
            textDocument: {
                publishDiagnostics: { versionSupport: true, codeDescriptionSupport: true, dataSupport: true },
                codeAction: { dataSupport: true, resolveSupport: { properties: ["edit"] }, codeActionLiteralSupport: { codeActionKind: { valueSet: ["quickfix", "refactor.rewrite"] } } }
            }
        }
    })]);
    diedEarly.catch(() => undefined); // later exits are reported by the waits that need the server
    await connection.sendNotification(InitializedNotification.type, {});

    return {
        connection,
        child,
        stderr: () => stderr,
        warnings,
        events,
        diagnostics(uri, accept = () => true) {
            const index = received.findIndex((p) => p.uri === uri && accept(p));
            if (index >= 0) {
                // Drop everything for this uri up to the match, so the next wait sees only newer publishes.
                const match = received[index]!;
                for (let i = index; i >= 0; i--) if (received[i]!.uri === uri) received.splice(i, 1);
                return Promise.resolve(match);
            }
            return new Promise((resolve, reject) => {
                waiters.push({ uri, accept, resolve });
                child.once("exit", (code) => reject(new Error(`server exited (${code}) before diagnostics for ${uri}\n${stderr}`)));
            });
        },
        open(uri, text, version = 1) {
            void connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "jsonl", version, text } });
        },
        async stop() {
            await connection.sendRequest(ShutdownRequest.type);
            await connection.sendNotification(ExitNotification.type);
            await exited;
            connection.dispose();
        }
    };
}

export function codes(diagnostics: Diagnostic[]): string[] {
    return diagnostics.map((d) => String(d.code));
}
