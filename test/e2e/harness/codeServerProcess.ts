// Starts the code-server installed by scripts/install-code-server.mjs on a free port and stops it with all
// its children (extension host, pty host, file watcher), which share its process group.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./paths";

/** How long code-server may take to print its listening address; it takes about 1 s on 2 cores. */
const SERVER_START_TIMEOUT_MS = 60_000;
/** After SIGTERM, how long the process group gets before SIGKILL. */
const SHUTDOWN_GRACE_MS = 5_000;
const OUTPUT_TAIL_CHARS = 4_000;

export const codeServerEntry = join(repoRoot, ".vscode-test", "code-server", "node_modules", "code-server", "out", "node", "entry.js");

export interface CodeServerProcessOptions {
    workspace: string;
    userDataDir: string;
    extensionsDir: string;
    /** Full environment of the server; its extension host inherits it. */
    env: NodeJS.ProcessEnv;
    /** Leave Workspace Trust on (for the test of untrusted-workspace behaviour). */
    workspaceTrust: boolean;
}

/** Process groups still alive, killed synchronously if the test process exits without cleaning up. */
const liveGroups = new Set<number>();
function killLiveGroups(): void {
    for (const pgid of liveGroups) {
        try { process.kill(-pgid, "SIGKILL"); } catch { /* already gone */ }
    }
    liveGroups.clear();
}
process.once("exit", killLiveGroups);
// A test run stopped with Ctrl+C or by a CI timeout: clean up, then die of the same signal as we would have.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
        killLiveGroups();
        process.kill(process.pid, signal);
    });
}

export class CodeServerProcess {
    private output = "";
    private readonly exited: Promise<number | null>;

    private constructor(private readonly child: ChildProcess, readonly url: URL) {
        this.exited = new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
            else child.once("exit", (code) => resolve(code));
        });
    }

    /** The last lines code-server printed, for error messages. */
    get outputTail(): string {
        return this.output.slice(-OUTPUT_TAIL_CHARS);
    }

    static async start(options: CodeServerProcessOptions): Promise<CodeServerProcess> {
        if (!existsSync(codeServerEntry)) {
            throw new Error(`code-server is not installed at ${codeServerEntry}. Run \`node scripts/install-code-server.mjs\` (npm test does it).`);
        }
        const args = [
            codeServerEntry,
            // Port 0: the OS picks a free port and code-server prints it, so parallel sessions never collide.
            "--bind-addr", "127.0.0.1:0",
            "--auth", "none",
            "--disable-telemetry",
            "--disable-update-check",
            "--disable-getting-started-override",
            "--user-data-dir", options.userDataDir,
            "--extensions-dir", options.extensionsDir,
            ...(options.workspaceTrust ? [] : ["--disable-workspace-trust"]),
            options.workspace
        ];
        // detached: own process group, so one kill reaches the extension host and every other child.
        const child = spawn(process.execPath, args, { env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
        if (child.pid !== undefined) liveGroups.add(child.pid);

        let output = "";
        let onData: (chunk: Buffer) => void = () => undefined;
        let onExit: (code: number | null, signal: NodeJS.Signals | null) => void = () => undefined;
        const url = await new Promise<URL>((resolve, reject) => {
            const timer = setTimeout(() => fail(`did not report its address within ${SERVER_START_TIMEOUT_MS} ms`), SERVER_START_TIMEOUT_MS);
            onData = (chunk: Buffer) => {
                output += chunk.toString();
                const match = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
                if (match) {
                    clearTimeout(timer);
                    resolve(new URL(match[1]!));
                }
            };
            onExit = (code, signal) => fail(`exited early (code ${code}, signal ${signal})`);
            function fail(why: string) {
                clearTimeout(timer);
                reject(new Error(`code-server ${why}. Its output:\n${output.slice(-OUTPUT_TAIL_CHARS)}`));
            }
            child.stdout!.on("data", onData);
            child.stderr!.on("data", onData);
            child.once("error", (err) => fail(`could not be spawned: ${err.message}`));
            child.once("exit", onExit);
        }).catch(async (err: unknown) => {
            killGroup(child, "SIGKILL");
            throw err;
        });
        child.stdout!.off("data", onData);
        child.stderr!.off("data", onData);
        child.off("exit", onExit);

        const server = new CodeServerProcess(child, url);
        server.output = output;
        const keep = (chunk: Buffer) => { server.output = (server.output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS * 4); };
        child.stdout!.on("data", keep);
        child.stderr!.on("data", keep);
        child.once("exit", () => { if (child.pid !== undefined) liveGroups.delete(child.pid); });
        return server;
    }

    /** SIGTERM to the whole process group, SIGKILL if it is still there after a grace period. */
    async stop(): Promise<void> {
        if (this.child.exitCode === null && this.child.signalCode === null) {
            killGroup(this.child, "SIGTERM");
            const timer = setTimeout(() => killGroup(this.child, "SIGKILL"), SHUTDOWN_GRACE_MS);
            await this.exited;
            clearTimeout(timer);
        }
        // The server may be gone while an extension host or language server in its group lingers.
        killGroup(this.child, "SIGKILL");
        if (this.child.pid !== undefined) liveGroups.delete(this.child.pid);
    }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined) return;
    try {
        process.kill(-child.pid, signal);
    } catch {
        // ESRCH: the group is already empty.
    }
}
