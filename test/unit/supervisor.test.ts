// SidecarSupervisor's failure paths against small real child processes that misbehave on purpose:
// a missing bundle, a sidecar of another protocol version, one that ignores shutdown. The happy
// paths and crash restarts run against the real sidecar in test/integration/sidecar.test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SidecarProtocolMismatchError, SidecarStartError } from "../../extension/src/sidecar/errors";
import { nodeProcessApis, type ProcessApis } from "../../extension/src/sidecar/processApis";
import { MAX_RESTART_ATTEMPTS, RESTART_BASE_DELAY_MS, restartDelayMs, SidecarSupervisor } from "../../extension/src/sidecar/supervisor";
import { PROTOCOL_VERSION, RunListRequest } from "../../sidecar/src/protocol/sidecar";
import { nextEvent, RecordingLog, tempWorkspace } from "../integration/sidecarHarness";

/** A safety net so a broken build fails instead of hanging CI; no test waits on the clock. */
const HANG_GUARD = { timeout: 120_000 };

/**
 * A stand-in sidecar speaking raw JSON-RPC framing (no dependencies, so it runs from a temp dir).
 * `answer` maps a method to the JS expression of its result; `keepAlive` ignores stdin closing.
 */
function fakeSidecar(answers: Record<string, string>, keepAlive: boolean): string {
    const file = join(tempWorkspace("lora-studio-fake-sidecar-"), "fake-sidecar.mjs");
    writeFileSync(
        file,
        `const answers = { ${Object.entries(answers).map(([method, result]) => `${JSON.stringify(method)}: () => (${result})`).join(", ")} };
let buffer = Buffer.alloc(0);
process.stdin.on("data", (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
        const headerEnd = buffer.indexOf("\\r\\n\\r\\n");
        if (headerEnd < 0) return;
        const length = Number(/Content-Length: (\\d+)/i.exec(buffer.subarray(0, headerEnd).toString())[1]);
        if (buffer.length < headerEnd + 4 + length) return;
        const message = JSON.parse(buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString());
        buffer = buffer.subarray(headerEnd + 4 + length);
        if (message.id === undefined) continue;
        const answer = answers[message.method];
        const body = JSON.stringify(answer
            ? { jsonrpc: "2.0", id: message.id, result: answer() }
            : { jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "no " + message.method } });
        process.stdout.write("Content-Length: " + Buffer.byteLength(body) + "\\r\\n\\r\\n" + body);
    }
});
${keepAlive ? "setInterval(() => {}, 1 << 30); process.stdin.on('end', () => process.stderr.write('ignoring stdin end\\n'));" : "process.stdin.on('end', () => process.exit(0));"}
`
    );
    return file;
}

function initializeAnswer(protocolVersion: number): string {
    return JSON.stringify({
        protocolVersion,
        engineVersion: null,
        sidecarVersion: "fake",
        capabilities: { cpu: true, cuda: false, devices: [], engineAvailable: false, engineError: "fake" }
    });
}

function supervisorFor(scriptPath: string, processApis: ProcessApis = nodeProcessApis): { supervisor: SidecarSupervisor; log: RecordingLog } {
    const log = new RecordingLog();
    const supervisor = new SidecarSupervisor({
        command: process.execPath,
        scriptPath,
        clientName: "supervisor unit test",
        log,
        processApis,
        timing: { restartBaseDelayMs: 1, shutdownTimeoutMs: 2_000, shutdownGraceMs: 200 }
    });
    return { supervisor, log };
}

test("restart delays double from the base, up to MAX_RESTART_ATTEMPTS = 3", HANG_GUARD, () => {
    assert.equal(MAX_RESTART_ATTEMPTS, 3);
    const delays = Array.from({ length: MAX_RESTART_ATTEMPTS }, (_, i) => restartDelayMs(i + 1));
    assert.deepEqual(delays, [RESTART_BASE_DELAY_MS, 2 * RESTART_BASE_DELAY_MS, 4 * RESTART_BASE_DELAY_MS]);
    assert.equal(restartDelayMs(2, 5), 10);
});

test("a missing bundle fails fast with an actionable error and spawns nothing", HANG_GUARD, async () => {
    let spawned = 0;
    const counting: ProcessApis = { ...nodeProcessApis, spawn: (request) => (spawned++, nodeProcessApis.spawn(request)) };
    const missing = join(tempWorkspace(), "dist", "sidecar.mjs");
    const { supervisor } = supervisorFor(missing, counting);
    const failed = nextEvent(supervisor.onDidChangeState, (change) => change.state === "failed");
    await assert.rejects(supervisor.sendRequest(RunListRequest.type), (error) => {
        assert.ok(error instanceof SidecarStartError, String(error));
        assert.ok(error.message.includes(missing), "names the missing file");
        assert.match(error.message, /npm run build/, "says what to do");
        return true;
    });
    assert.ok((await failed).error instanceof SidecarStartError);
    assert.equal(spawned, 0);
});

test("a sidecar of another protocol version is refused, ended, and not restarted", HANG_GUARD, async () => {
    const script = fakeSidecar({ initialize: initializeAnswer(PROTOCOL_VERSION + 41) }, false);
    const { supervisor } = supervisorFor(script);
    const exited = nextEvent(supervisor.onDidExit);
    await assert.rejects(supervisor.start(), (error) => {
        assert.ok(error instanceof SidecarProtocolMismatchError, String(error));
        assert.match(error.message, /Rebuild/);
        return true;
    });
    const exit = await exited;
    assert.equal(exit.expected, true);
    assert.equal(exit.willRestart, false);
    assert.equal(supervisor.state, "failed");
});

test("graceful shutdown kills a sidecar that does not exit within the grace period", HANG_GUARD, async () => {
    const script = fakeSidecar({ initialize: initializeAnswer(PROTOCOL_VERSION), shutdown: "null" }, true);
    const { supervisor, log } = supervisorFor(script);
    const info = await supervisor.start();
    assert.equal(info.sidecarVersion, "fake");
    const exited = nextEvent(supervisor.onDidExit);
    await supervisor.stop();
    const exit = await exited;
    assert.equal(exit.expected, true);
    assert.equal(exit.signal, "SIGKILL");
    assert.equal(supervisor.state, "stopped");
    assert.ok(log.lines.some((line) => line.includes("did not exit within")), log.lines.join("\n"));
    assert.ok(log.lines.some((line) => line.includes("ignoring stdin end")), "stderr lines reach the log");
});

test("a sidecar that dies on start is restarted up to the cap, then fails with the reason", HANG_GUARD, async () => {
    // Exits before answering initialize, like a bundle that throws at load.
    const script = join(tempWorkspace(), "crash.mjs");
    writeFileSync(script, `process.stderr.write("boom: cannot load\\n"); process.exit(70);\n`);
    const { supervisor } = supervisorFor(script);
    const exits: number[] = [];
    supervisor.onDidExit((exit) => exits.push(exit.code ?? -1));
    await assert.rejects(supervisor.start(), (error: Error) => {
        assert.equal(error.name, "SidecarCrashLoopError");
        assert.match(error.message, /exit code 70/);
        return true;
    });
    assert.deepEqual(exits, Array(MAX_RESTART_ATTEMPTS + 1).fill(70));
});
