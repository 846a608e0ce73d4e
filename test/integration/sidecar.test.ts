// The real sidecar process (node dist/sidecar.mjs) driven through the real supervisor core: the
// handshake, typed errors, timeouts that kill a hung child, capped restarts after kill -9, and a
// graceful shutdown. Every wait is on a process or supervisor event.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";
import {
    InitializeRequest,
    PROTOCOL_VERSION,
    RunGetRequest,
    RunListRequest,
    RunStartRequest,
    ShutdownRequest,
    SidecarErrorCode
} from "../../sidecar/src/protocol/sidecar";
import { DebugBlockRequest, DebugConsoleLogRequest, DebugInfoRequest } from "./sidecarTestHooks";
import { RpcTimeoutError, SidecarCrashLoopError } from "../../extension/src/sidecar/errors";
import { MAX_RESTART_ATTEMPTS } from "../../extension/src/sidecar/supervisor";
import { RunStore } from "../../sidecar/src/training/runStore";
import { hookedSidecarScript, nextEvent, repoRoot, sidecarScript, tempWorkspace, testSupervisor } from "./sidecarHarness";

/** A safety net so a broken build fails instead of hanging CI; no test waits on the clock. */
const HANG_GUARD = { timeout: 120_000 };

function assertTypedError(error: unknown, code: number): true {
    assert.ok(error instanceof ResponseError, `expected a ResponseError, got ${String(error)}`);
    assert.equal(error.code, code, `code of: ${error.message}`);
    assert.equal(typeof (error.data as { hint?: unknown } | undefined)?.hint, "string", "typed errors carry a hint");
    return true;
}

test("initialize handshake reports versions and capabilities, then graceful shutdown exits with code 0", HANG_GUARD, async () => {
    const { supervisor } = testSupervisor();
    const result = await supervisor.start();
    assert.equal(result.protocolVersion, PROTOCOL_VERSION);
    const { version } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
    assert.equal(result.sidecarVersion, version);
    const { capabilities } = result;
    assert.equal(capabilities.cpu, true);
    assert.equal(typeof capabilities.cuda, "boolean");
    assert.ok(Array.isArray(capabilities.devices));
    if (capabilities.engineAvailable) {
        assert.equal(typeof result.engineVersion, "string");
    } else {
        // Without the engine the sidecar still answers, and says why and what to do.
        assert.equal(result.engineVersion, null);
        assert.match(capabilities.engineError ?? "", /engine/i);
    }
    assert.equal(supervisor.state, "running");

    const pid = supervisor.pid;
    const exit = nextEvent(supervisor.onDidExit);
    await supervisor.stop();
    const ended = await exit;
    assert.equal(ended.pid, pid);
    assert.equal(ended.expected, true);
    assert.equal(ended.code, 0, ended.description);
    assert.equal(ended.willRestart, false);
    assert.equal(supervisor.state, "stopped");
});

test("a request before initialize fails with NotInitialized; the handshake checks the protocol version", HANG_GUARD, async () => {
    const child = spawn(process.execPath, [sidecarScript], { stdio: ["pipe", "pipe", "pipe"] });
    const stderr: string[] = [];
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    connection.listen();
    try {
        await assert.rejects(connection.sendRequest(RunListRequest.type), (error) => assertTypedError(error, SidecarErrorCode.NotInitialized));
        await assert.rejects(
            connection.sendRequest(InitializeRequest.type, { protocolVersion: PROTOCOL_VERSION + 1, clientName: "test", workspaceTrusted: true }),
            (error) => assertTypedError(error, SidecarErrorCode.ProtocolMismatch)
        );
        const result = await connection.sendRequest(InitializeRequest.type, { protocolVersion: PROTOCOL_VERSION, clientName: "test", workspaceTrusted: true });
        assert.equal(result.protocolVersion, PROTOCOL_VERSION);
        await assert.rejects(
            connection.sendRequest(InitializeRequest.type, { protocolVersion: PROTOCOL_VERSION, clientName: "test", workspaceTrusted: true }),
            (error) => assertTypedError(error, SidecarErrorCode.AlreadyInitialized)
        );
        // No workspaceRoot was given: the run store is unavailable, typed.
        await assert.rejects(connection.sendRequest(RunListRequest.type), (error) => assertTypedError(error, SidecarErrorCode.NoWorkspace));
        // The production sidecar has no test hooks: the request does not exist.
        await assert.rejects(connection.sendRequest(DebugInfoRequest.type), (error) => error instanceof ResponseError && error.code === -32601);
        await connection.sendRequest(ShutdownRequest.type);
    } finally {
        connection.dispose();
        child.stdin.end();
    }
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 0, stderr.join(""));
    assert.equal(stderr.join("").includes("uncaught"), false, stderr.join(""));
});

test("run/list and run/get read the workspace run store; training requests are gated and typed", HANG_GUARD, async () => {
    const workspaceRoot = tempWorkspace();
    const store = new RunStore(workspaceRoot);
    const run = await store.createRun({ config: { model: "models/tiny.gguf", data: "data/train.jsonl" }, datasetSha256: "a".repeat(64), totalSteps: 10 });
    run.markRunning();
    const writer = run.openMetricsWriter();
    writer.append({ step: 1, loss: 2.5 });
    writer.append({ step: 2, loss: 2.25 });
    writer.close();
    // A kill -9 mid-write leaves a partial last line.
    writeTornLine(run.metricsPath);

    const trusted = testSupervisor({ initializeParams: () => ({ workspaceRoot, workspaceTrusted: true }) }).supervisor;
    try {
        const { runs } = await trusted.sendRequest(RunListRequest.type);
        assert.deepEqual(runs.map((r) => [r.runId, r.state]), [[run.runId, "running"]], "this test process owns the run and is alive");
        const detail = await trusted.sendRequest(RunGetRequest.type, { runId: run.runId, includeMetrics: true });
        assert.deepEqual(detail.metrics?.map((m) => [m.step, m.loss]), [[1, 2.5], [2, 2.25]]);
        assert.equal(detail.metricsTornTail, true);
        assert.equal(detail.datasetSha256, "a".repeat(64));
        assert.equal(detail.config.model, "models/tiny.gguf");
        await assert.rejects(trusted.sendRequest(RunGetRequest.type, { runId: "../../etc" }), (error) => assertTypedError(error, SidecarErrorCode.RunNotFound));
        const engineAvailable = trusted.serverInfo?.capabilities.engineAvailable;
        await assert.rejects(
            trusted.sendRequest(RunStartRequest.type, { config: { model: "m.gguf", data: "d.jsonl" } }),
            (error) => assertTypedError(error, engineAvailable ? SidecarErrorCode.InvalidParams : SidecarErrorCode.EngineUnavailable)
        );
    } finally {
        await trusted.stop();
    }

    const untrusted = testSupervisor({ initializeParams: () => ({ workspaceRoot, workspaceTrusted: false }) }).supervisor;
    try {
        await assert.rejects(
            untrusted.sendRequest(RunStartRequest.type, { config: { model: "m.gguf", data: "d.jsonl" } }),
            (error) => assertTypedError(error, SidecarErrorCode.WorkspaceUntrusted)
        );
        // Reading the run history still works in restricted mode.
        assert.equal((await untrusted.sendRequest(RunListRequest.type)).runs.length, 1);
    } finally {
        await untrusted.stop();
    }
});

test("a request that outlives its timeout rejects with RpcTimeoutError and the hung child is killed and replaced", HANG_GUARD, async () => {
    const { supervisor } = testSupervisor();
    try {
        await supervisor.start();
        const hungPid = supervisor.pid;
        const exited = nextEvent(supervisor.onDidExit);
        const runningAgain = nextEvent(supervisor.onDidChangeState, (change) => change.state === "running");
        // The sidecar blocks its event loop far longer than the timeout: only the kill ends it.
        await assert.rejects(supervisor.sendRequest(DebugBlockRequest.type, { milliseconds: 10 * 60_000 }, { timeoutMs: 250 }), (error) => {
            assert.ok(error instanceof RpcTimeoutError, String(error));
            assert.equal(error.method, DebugBlockRequest.method);
            return true;
        });
        const exit = await exited;
        assert.equal(exit.pid, hungPid);
        assert.equal(exit.expected, false);
        assert.equal(exit.signal, "SIGKILL");
        assert.match(exit.description, /did not answer "debug\/block"/);
        assert.equal(exit.willRestart, true);
        await runningAgain;
        const info = await supervisor.sendRequest(DebugInfoRequest.type);
        assert.notEqual(info.pid, hungPid);
        assert.equal(info.initialized, true, "the replacement was initialized before use");
    } finally {
        await supervisor.stop();
    }
});

test("kill -9 of the sidecar: reported, restarted up to MAX_RESTART_ATTEMPTS, then an actionable error", HANG_GUARD, async () => {
    const { supervisor, log } = testSupervisor();
    try {
        await supervisor.start();
        const pids = new Set<number | undefined>([supervisor.pid]);
        for (let attempt = 1; attempt <= MAX_RESTART_ATTEMPTS; attempt++) {
            const exited = nextEvent(supervisor.onDidExit);
            const runningAgain = nextEvent(supervisor.onDidChangeState, (change) => change.state === "running");
            process.kill(supervisor.pid as number, "SIGKILL");
            const exit = await exited;
            assert.deepEqual([exit.expected, exit.signal, exit.willRestart, exit.restartAttempt], [false, "SIGKILL", true, attempt]);
            await runningAgain;
            pids.add(supervisor.pid);
        }
        assert.equal(pids.size, MAX_RESTART_ATTEMPTS + 1, "each restart is a new process");

        const exited = nextEvent(supervisor.onDidExit);
        const failed = nextEvent(supervisor.onDidChangeState, (change) => change.state === "failed");
        process.kill(supervisor.pid as number, "SIGKILL");
        assert.equal((await exited).willRestart, false);
        const failure = await failed;
        assert.ok(failure.error instanceof SidecarCrashLoopError, String(failure.error));
        assert.match(failure.error.message, /Restart Sidecar/, "the error says what to do");
        assert.equal(supervisor.pid, undefined, "no further restart");
        await assert.rejects(supervisor.sendRequest(RunListRequest.type), SidecarCrashLoopError);
        assert.ok(log.lines.some((line) => line.startsWith("error ") && line.includes("will not be restarted")));

        // An explicit restart (the command the error names) recovers.
        const info = await supervisor.restart();
        assert.equal(info.protocolVersion, PROTOCOL_VERSION);
        assert.equal(supervisor.state, "running");
    } finally {
        await supervisor.stop();
    }
});

test("stray console.log and stdout writes go to stderr; stdin closing ends the sidecar", HANG_GUARD, async () => {
    const child = spawn(process.execPath, [hookedSidecarScript], { stdio: ["pipe", "pipe", "pipe"] });
    const stderr: string[] = [];
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
    const closed = once(child, "close");
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    connection.listen();
    const marker = `stray output ${process.pid}`;
    await connection.sendRequest(DebugConsoleLogRequest.type, { text: marker });
    // The framing survived: the connection still answers.
    assert.equal((await connection.sendRequest(DebugInfoRequest.type)).pid, child.pid);
    child.stdin.end(); // no shutdown first: the extension host went away
    const [code] = (await closed) as [number | null];
    connection.dispose();
    assert.notEqual(code, null);
    assert.notEqual(code, 0, "an orphaned exit is told apart from a graceful one");
    assert.equal(stderr.join("").split(marker).length - 1, 2, stderr.join(""));
});

function writeTornLine(file: string): void {
    appendFileSync(file, '{"step":3,"lo');
}
