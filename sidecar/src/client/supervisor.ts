// SidecarSupervisor owns the sidecar process's life, in one class (rust-analyzer's Ctx, the PET client
// of vscode-python-environments): lazy start on first use, the initialize handshake, requests with
// timeouts, killing a hung child, capped restarts with exponential backoff, and graceful shutdown.
//
// This core imports no `vscode`: node APIs come through ProcessApis and logging through SidecarLog,
// so tests drive it against the real `dist/sidecar.mjs` in plain node. vscodeSupervisor.ts adapts it
// to the editor (LogOutputChannel, messages, workspace trust).

import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import {
    createMessageConnection,
    type Disposable,
    Emitter,
    type Event,
    type MessageConnection,
    type NotificationType,
    type RequestType,
    type RequestType0,
    ResponseError,
    StreamMessageReader,
    StreamMessageWriter
} from "vscode-jsonrpc/node";
import {
    type InitializeParams,
    InitializeRequest,
    type InitializeResult,
    LogNotification,
    type LogParams,
    PROTOCOL_VERSION,
    RunCheckpointNotification,
    RunFailedNotification,
    RunFinishedNotification,
    RunProgressNotification,
    RunResumeRequest,
    RunStartRequest,
    ShutdownRequest,
    SidecarErrorCode
} from "../protocol/sidecar";
import {
    RpcTimeoutError,
    SidecarCrashLoopError,
    SidecarError,
    SidecarExitedError,
    SidecarProtocolMismatchError,
    SidecarStartError,
    SidecarStoppedError
} from "./errors";
import { nodeProcessApis, type ProcessApis } from "./processApis";
import {
    DEFAULT_TIMING,
    restartDelayMs,
    type RequestOptions,
    type SidecarExitEvent,
    type SidecarState,
    type SidecarStateChangeEvent,
    type SidecarSupervisorOptions,
    type SupervisorTiming,
    TIMEOUTS_BY_METHOD_MS
} from "./supervisorConfig";

export * from "./supervisorConfig";

const STDERR_TAIL_LINES = 20;

/** One spawned sidecar process and its connection. */
interface ChildSession {
    readonly process: ChildProcessWithoutNullStreams;
    readonly pid: number | undefined;
    readonly connection: MessageConnection;
    /** Rejecters of requests waiting on this process, called with the exit description. */
    readonly pending: Set<(exitDescription: string) => void>;
    readonly stderrTail: string[];
    readonly runIds: Set<string>;
    readonly exited: Promise<void>;
    markExited(): void;
    hasExited: boolean;
    /** Set before the supervisor ends the process itself; an expected exit is not restarted. */
    expectedExit: boolean;
    /** Why the supervisor killed it, for the exit description. */
    killReason?: string;
}

type AnyRequestType<P, R> = RequestType<P, R, unknown> | RequestType0<R, unknown>;

export class SidecarSupervisor implements Disposable {
    private readonly apis: ProcessApis;
    private readonly timing: SupervisorTiming;
    private currentState: SidecarState = "stopped";
    private child: ChildSession | undefined;
    private info: InitializeResult | undefined;
    private failure: Error | undefined;
    private restartAttempts = 0;
    private restartTimer: unknown;
    private forgiveTimer: unknown;
    private stopping: Promise<void> | undefined;
    private disposed = false;
    private readonly notificationHandlers = new Map<string, Set<(params: unknown) => void>>();
    private readonly stateEmitter = new Emitter<SidecarStateChangeEvent>();
    private readonly exitEmitter = new Emitter<SidecarExitEvent>();

    /** Fires on every state change; "failed" carries the actionable error. */
    readonly onDidChangeState: Event<SidecarStateChangeEvent> = this.stateEmitter.event;
    /** Fires whenever a sidecar process ends, expected or not, before any restart. */
    readonly onDidExit: Event<SidecarExitEvent> = this.exitEmitter.event;

    constructor(private readonly options: SidecarSupervisorOptions) {
        this.apis = options.processApis ?? nodeProcessApis;
        this.timing = { ...DEFAULT_TIMING, ...options.timing };
    }

    get state(): SidecarState {
        return this.currentState;
    }
    /** The handshake's answer while running: versions and capabilities (devices, free VRAM, engine availability). */
    get serverInfo(): InitializeResult | undefined {
        return this.info;
    }
    get pid(): number | undefined {
        return this.child?.pid;
    }
    get lastError(): Error | undefined {
        return this.failure;
    }

    /** Starts the sidecar if needed (clearing a "failed" state) and resolves with its handshake. */
    async start(): Promise<InitializeResult> {
        if (this.currentState === "failed") {
            this.failure = undefined;
            this.restartAttempts = 0;
            this.setState("stopped");
        }
        await this.ensureRunning(InitializeRequest.method);
        return this.info as InitializeResult;
    }

    /** Stops gracefully, then starts afresh with the restart count reset ("LoRA Studio: Restart Sidecar"). */
    async restart(): Promise<InitializeResult> {
        await this.stop();
        this.restartAttempts = 0;
        return this.start();
    }

    sendRequest<R>(type: RequestType0<R, unknown>, options?: RequestOptions): Promise<R>;
    sendRequest<P, R>(type: RequestType<P, R, unknown>, params: P, options?: RequestOptions): Promise<R>;
    async sendRequest<P, R>(type: AnyRequestType<P, R>, ...rest: unknown[]): Promise<R> {
        const takesParams = type.numberOfParams > 0;
        const params = takesParams ? (rest[0] as P) : undefined;
        const options = (takesParams ? rest[1] : rest[0]) as RequestOptions | undefined;
        const child = await this.ensureRunning(type.method);
        const timeoutMs = options?.timeoutMs ?? TIMEOUTS_BY_METHOD_MS[type.method] ?? this.timing.requestTimeoutMs;
        const result = await this.request(child, type.method, timeoutMs, true, () =>
            takesParams
                ? child.connection.sendRequest(type as RequestType<P, R, unknown>, params as P, ...(options?.token ? [options.token] : []))
                : child.connection.sendRequest(type as RequestType0<R, unknown>, ...(options?.token ? [options.token] : []))
        );
        this.trackStartedRun(child, type.method, result);
        return result;
    }

    async sendNotification<P>(type: NotificationType<P>, params: P): Promise<void> {
        const child = await this.ensureRunning(type.method);
        await child.connection.sendNotification(type, params);
    }

    /** Subscribes to a sidecar notification; the subscription survives restarts. */
    onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): Disposable {
        let handlers = this.notificationHandlers.get(type.method);
        if (!handlers) this.notificationHandlers.set(type.method, (handlers = new Set()));
        const entry = handler as (params: unknown) => void;
        handlers.add(entry);
        return { dispose: () => handlers.delete(entry) };
    }

    /** Graceful shutdown: `shutdown`, close stdin, and kill only if it outlives the grace period. */
    stop(): Promise<void> {
        this.stopping ??= this.stopNow().finally(() => (this.stopping = undefined));
        return this.stopping;
    }

    dispose(): void {
        if (this.disposed) return;
        this.disposed = true;
        void this.stop().finally(() => {
            this.stateEmitter.dispose();
            this.exitEmitter.dispose();
        });
    }

    // -----------------------------------------------------------------------------------------
    // Lifecycle
    // -----------------------------------------------------------------------------------------

    private async ensureRunning(method: string): Promise<ChildSession> {
        for (;;) {
            if (this.disposed) throw new SidecarStoppedError(method);
            switch (this.currentState) {
                case "running":
                    return this.child as ChildSession;
                case "failed":
                    throw this.failure as Error;
                case "stopping":
                    throw new SidecarStoppedError(method);
                case "stopped":
                    this.launch();
                    continue;
                case "starting":
                case "restarting":
                    await this.nextStateChange();
                    continue;
            }
        }
    }

    private nextStateChange(): Promise<void> {
        return new Promise((resolve) => {
            const subscription = this.stateEmitter.event(() => {
                subscription.dispose();
                resolve();
            });
        });
    }

    private setState(state: SidecarState, error?: Error): void {
        const previous = this.currentState;
        if (previous === state) return;
        this.currentState = state;
        this.options.log.debug(`sidecar: ${previous} → ${state}`);
        this.stateEmitter.fire(error ? { state, previous, error } : { state, previous });
    }

    private fail(error: Error): void {
        this.failure = error;
        this.clearTimers();
        this.options.log.error(error.message);
        this.setState("failed", error);
    }

    private launch(): void {
        this.setState("starting");
        if (!this.apis.fileExists(this.options.scriptPath)) {
            this.fail(new SidecarStartError(`The LoRA Studio sidecar bundle is missing: ${this.options.scriptPath}. Run "npm run build" (or reinstall the extension), then try again.`));
            return;
        }
        const child = this.spawnChild();
        this.child = child;
        void this.handshake(child);
    }

    private spawnChild(): ChildSession {
        const { command, scriptPath, nodeArgs = [], cwd } = this.options;
        const proc = this.apis.spawn({ command, args: [...nodeArgs, scriptPath], env: this.options.env ?? process.env, ...(cwd ? { cwd } : {}) });
        let markExited = (): void => undefined;
        const exited = new Promise<void>((resolve) => (markExited = resolve));
        const connection = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
        const child: ChildSession = {
            process: proc,
            pid: proc.pid,
            connection,
            pending: new Set(),
            stderrTail: [],
            runIds: new Set(),
            exited,
            markExited,
            hasExited: false,
            expectedExit: false
        };
        this.options.log.info(`sidecar: started pid ${proc.pid ?? "?"}: ${command} ${[...nodeArgs, scriptPath].join(" ")}`);

        // Writing to a dead child's stdin raises EPIPE here; the exit handler reports the death.
        proc.stdin.on("error", (error) => this.options.log.debug(`sidecar stdin: ${error.message}`));
        createInterface({ input: proc.stderr }).on("line", (line) => {
            child.stderrTail.push(line);
            if (child.stderrTail.length > STDERR_TAIL_LINES) child.stderrTail.shift();
            this.options.log.info(`[sidecar ${child.pid ?? "?"}] ${line}`);
        });
        proc.on("error", (error) => {
            child.killReason ??= `could not run ${command}: ${error.message}`;
            this.onChildExit(child, null, null);
        });
        proc.on("exit", (code, signal) => this.onChildExit(child, code, signal));

        connection.onNotification((method, params) => this.dispatchNotification(child, method, params));
        connection.onError(([error]) => this.options.log.warn(`sidecar connection: ${error.message}`));
        connection.listen();
        return child;
    }

    private async handshake(child: ChildSession): Promise<void> {
        const params: InitializeParams = {
            protocolVersion: PROTOCOL_VERSION,
            clientName: this.options.clientName,
            workspaceTrusted: false,
            ...this.options.initializeParams?.()
        };
        let result: InitializeResult;
        try {
            result = await this.request(child, InitializeRequest.method, this.timing.initializeTimeoutMs, true, () =>
                child.connection.sendRequest(InitializeRequest.type, params)
            );
            if (result.protocolVersion !== PROTOCOL_VERSION) throw new SidecarProtocolMismatchError(PROTOCOL_VERSION, result.protocolVersion);
        } catch (error) {
            // A death or a hung child is the exit handler's to restart. A refused handshake would
            // only be refused again: end the child and give up with the reason.
            if (child.hasExited || child.expectedExit || error instanceof RpcTimeoutError || error instanceof SidecarExitedError) return;
            const failure =
                error instanceof ResponseError && error.code === SidecarErrorCode.ProtocolMismatch
                    ? new SidecarProtocolMismatchError(PROTOCOL_VERSION, "another version")
                    : error instanceof SidecarError
                      ? error
                      : new SidecarStartError(`The LoRA Studio sidecar refused to initialize: ${(error as Error).message}`);
            child.expectedExit = true;
            child.process.stdin.end();
            child.process.kill("SIGKILL");
            this.fail(failure);
            return;
        }
        if (this.child !== child || child.hasExited || child.expectedExit) return;
        this.info = result;
        const { capabilities } = result;
        this.options.log.info(
            `sidecar: ready (protocol ${result.protocolVersion}, sidecar ${result.sidecarVersion}, engine ${result.engineVersion ?? "unavailable"}, ` +
                `cuda ${capabilities.cuda}, ${capabilities.devices.length} device(s))`
        );
        if (!capabilities.engineAvailable && capabilities.engineError) this.options.log.warn(capabilities.engineError);
        this.forgiveTimer = this.apis.setTimeout(() => (this.restartAttempts = 0), this.timing.restartCounterResetMs);
        (this.forgiveTimer as { unref?(): void }).unref?.();
        this.setState("running");
    }

    private onChildExit(child: ChildSession, code: number | null, signal: NodeJS.Signals | null): void {
        if (child.hasExited) return;
        child.hasExited = true;
        const description = describeExit(code, signal, child.killReason);
        for (const reject of child.pending) reject(description);
        child.pending.clear();
        child.connection.dispose();
        child.markExited();
        if (this.child !== child) return;

        this.child = undefined;
        this.info = undefined;
        this.clearTimers();
        const exit = { pid: child.pid, code, signal, description, activeRunIds: [...child.runIds] };
        if (child.expectedExit) {
            this.options.log.info(`sidecar: pid ${child.pid ?? "?"} exited (${description})`);
            this.exitEmitter.fire({ ...exit, expected: true, willRestart: false, restartAttempt: this.restartAttempts });
            return;
        }

        this.restartAttempts += 1;
        const willRestart = this.restartAttempts <= this.timing.maxRestartAttempts;
        this.options.log.warn(`sidecar: pid ${child.pid ?? "?"} stopped unexpectedly (${description})`);
        this.exitEmitter.fire({ ...exit, expected: false, willRestart, restartAttempt: this.restartAttempts });
        if (this.currentState !== "starting" && this.currentState !== "running") return; // stop() or fail() owns the state now
        if (!willRestart) {
            this.fail(new SidecarCrashLoopError(this.timing.maxRestartAttempts, description, child.stderrTail));
            return;
        }
        const delay = restartDelayMs(this.restartAttempts, this.timing.restartBaseDelayMs);
        this.options.log.info(`sidecar: restart ${this.restartAttempts}/${this.timing.maxRestartAttempts} in ${delay} ms`);
        this.setState("restarting");
        this.restartTimer = this.apis.setTimeout(() => {
            this.restartTimer = undefined;
            if (this.currentState === "restarting") this.launch();
        }, delay);
    }

    private async stopNow(): Promise<void> {
        this.clearTimers();
        const child = this.child;
        if (!child) {
            this.failure = undefined;
            this.restartAttempts = 0;
            this.setState("stopped");
            return;
        }
        const wasRunning = this.currentState === "running";
        child.expectedExit = true;
        this.setState("stopping");
        if (wasRunning) {
            try {
                await this.request(child, ShutdownRequest.method, this.timing.shutdownTimeoutMs, false, () => child.connection.sendRequest(ShutdownRequest.type));
            } catch (error) {
                this.options.log.warn(`sidecar: shutdown request failed (${(error as Error).message}); closing it anyway`);
            }
        }
        child.process.stdin.end();
        if (!(await this.exitsWithin(child, this.timing.shutdownGraceMs))) {
            this.options.log.warn(`sidecar: pid ${child.pid ?? "?"} did not exit within ${this.timing.shutdownGraceMs} ms of closing its input; killing it`);
            child.killReason = "killed: did not exit after shutdown";
            child.process.kill("SIGKILL");
            await child.exited;
        }
        this.failure = undefined;
        this.restartAttempts = 0;
        this.setState("stopped");
    }

    private exitsWithin(child: ChildSession, ms: number): Promise<boolean> {
        return new Promise((resolve) => {
            const timer = this.apis.setTimeout(() => resolve(false), ms);
            void child.exited.then(() => {
                this.apis.clearTimeout(timer);
                resolve(true);
            });
        });
    }

    private clearTimers(): void {
        if (this.restartTimer !== undefined) this.apis.clearTimeout(this.restartTimer);
        if (this.forgiveTimer !== undefined) this.apis.clearTimeout(this.forgiveTimer);
        this.restartTimer = this.forgiveTimer = undefined;
    }

    // -----------------------------------------------------------------------------------------
    // Requests and notifications
    // -----------------------------------------------------------------------------------------

    /**
     * Sends one request to `child`, settling with its answer, RpcTimeoutError, or SidecarExitedError
     * if the process dies first. With `killOnTimeout`, silence means the child is hung: it is killed,
     * and the exit handler restarts it.
     */
    private request<R>(child: ChildSession, method: string, timeoutMs: number, killOnTimeout: boolean, send: () => Promise<R>): Promise<R> {
        return new Promise<R>((resolve, reject) => {
            let settled = false;
            const settle = (finish: () => void): void => {
                if (settled) return;
                settled = true;
                this.apis.clearTimeout(timer);
                child.pending.delete(onExit);
                finish();
            };
            const onExit = (exitDescription: string): void => settle(() => reject(new SidecarExitedError(method, exitDescription)));
            const timer = this.apis.setTimeout(() => {
                settle(() => reject(new RpcTimeoutError(method, timeoutMs)));
                if (killOnTimeout && !child.hasExited) {
                    child.killReason = `killed: did not answer "${method}" within ${timeoutMs} ms`;
                    this.options.log.warn(`sidecar: pid ${child.pid ?? "?"} ${child.killReason}`);
                    child.process.kill("SIGKILL");
                }
            }, timeoutMs);
            if (child.hasExited) {
                onExit(describeExit(child.process.exitCode, child.process.signalCode, child.killReason));
                return;
            }
            child.pending.add(onExit);
            send().then(
                (value) => settle(() => resolve(value)),
                (error: unknown) => settle(() => reject(error))
            );
        });
    }

    private dispatchNotification(child: ChildSession, method: string, params: unknown): void {
        if (method === LogNotification.method) this.logFromSidecar(params as LogParams);
        this.trackRunNotification(child, method, params);
        for (const handler of this.notificationHandlers.get(method) ?? []) {
            try {
                handler(params);
            } catch (error) {
                this.options.log.error(`handler of sidecar notification "${method}" threw: ${(error as Error).stack ?? String(error)}`);
            }
        }
    }

    private logFromSidecar({ level, message }: LogParams): void {
        const log = this.options.log;
        const write = { trace: log.trace, debug: log.debug, info: log.info, warn: log.warn, error: log.error }[level] ?? log.info;
        write.call(log, `[sidecar] ${message}`);
    }

    /** Keeps the set of runs training in this child, so a crash can name what to resume. */
    private trackRunNotification(child: ChildSession, method: string, params: unknown): void {
        const runId = (params as { runId?: unknown } | undefined)?.runId;
        if (typeof runId !== "string") return;
        if (method === RunProgressNotification.method || method === RunCheckpointNotification.method) child.runIds.add(runId);
        if (method === RunFinishedNotification.method || method === RunFailedNotification.method) child.runIds.delete(runId);
    }

    private trackStartedRun(child: ChildSession, method: string, result: unknown): void {
        if (method !== RunStartRequest.method && method !== RunResumeRequest.method) return;
        const runId = (result as { runId?: unknown } | undefined)?.runId;
        if (typeof runId === "string") child.runIds.add(runId);
    }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null, killReason: string | undefined): string {
    const how = signal ? `signal ${signal}` : code === null ? "no exit code" : `exit code ${code}`;
    return killReason ? `${how}, ${killReason}` : how;
}
