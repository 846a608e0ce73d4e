// One owner per run folder, with real concurrent processes: two `lora-studio train --resume DIR` started together
// (one trains, the other is refused naming it), and a terminal beside the editor's sidecar in both orders. After each
// interleaving, metrics.jsonl holds steps 1..N once and status.json says step N: the two never disagree.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ResponseError } from "vscode-jsonrpc";
import { RunCancelRequest, RunProgressNotification, RunResumeRequest, SidecarErrorCode, type SidecarErrorData } from "../../sidecar/src/protocol/sidecar";
import { LOCK_FILE_NAME } from "../../sidecar/src/training/runLock";
import { engineOrSkip } from "../oracle/engine";
import { fixturePath } from "../oracle/fixtures";
import { tempWorkspace, testSupervisor } from "./sidecarHarness";
import { FACT_RECIPE, readLosses, runCli, writeFactSet, type CliResult } from "./trainCliHarness";

const HANG_GUARD = { timeout: 600_000 };
const workspace = tempWorkspace("run-lock-");
after(() => rmSync(workspace, { recursive: true, force: true }));
const runId = "lock-run";
const runDir = join(workspace, ".lora-studio", "runs", runId);

/** metrics.jsonl and status.json agree: steps 1..status.step, once each, and no lock is left. */
function assertConsistent(what: string): { state: string; step: number } {
    const status = JSON.parse(readFileSync(join(runDir, "status.json"), "utf8")) as { state: string; step: number; lastCheckpointStep?: number };
    const steps = readLosses(join(runDir, "metrics.jsonl")).map((l) => l.step);
    assert.deepEqual(steps, Array.from({ length: status.step }, (_, i) => i + 1), `${what}: metrics.jsonl has steps 1..${status.step} once (status says ${status.state})`);
    assert.ok(status.lastCheckpointStep === undefined || status.lastCheckpointStep <= status.step);
    assert.equal(existsSync(join(runDir, LOCK_FILE_NAME)), false, `${what}: the lock was released`);
    return status;
}

const stepOf = (line: string): number | undefined => {
    const m = /^step (\d+)\//.exec(line);
    return m ? Number(m[1]) : undefined;
};

test("a cancelled run to fight over: trained by the CLI, interrupted with Ctrl+C", HANG_GUARD, async (t) => {
    if (!(await engineOrSkip(t))) return;
    const data = join(workspace, "facts.jsonl");
    writeFactSet(data, 12);
    let sent = false;
    const first = await runCli(["train", "--model", fixturePath("tiny-f32.gguf"), "--data", data, "--out", runDir, "--epochs", "400", "--checkpoint-every", "3", ...FACT_RECIPE], (line, child) => {
        if (!sent && (stepOf(line) ?? 0) >= 4) {
            sent = true;
            child.kill("SIGINT");
        }
    });
    assert.equal(first.code, 130, `${first.stdout}\n${first.stderr}`);
    assertConsistent("after the first run");
});

test("two `lora-studio train --resume DIR` at once: one trains, the other is refused naming the terminal that holds it", HANG_GUARD, async (t) => {
    if (!(await engineOrSkip(t)) || !existsSync(join(runDir, "status.json"))) return;
    // Both start together; whichever links run.lock first trains. The winner is stopped once the loser has exited.
    let loserExited = false;
    const winnerSteps: number[] = [];
    const resume = (): Promise<CliResult> => runCli(["train", "--resume", runDir], (line, child) => {
        const step = stepOf(line);
        if (step === undefined) return;
        winnerSteps.push(step);
        if (loserExited && winnerSteps.length >= 2) child.kill("SIGINT");
    });
    const both = [resume(), resume()].map((p, which) => p.then((result) => ({ which, result })));
    const first = await Promise.race(both);
    loserExited = true;
    const loser = first.result;
    const winner = (await both[1 - first.which]!).result;
    assert.equal(loser.code, 1, `the loser failed:\n${loser.stdout}\n${loser.stderr}`);
    assert.match(loser.stderr, /lock-run is in use: a terminal \(lora-studio-cli, pid \d+; its sidecar pid \d+\) has been training it since /);
    assert.match(loser.stderr, /Wait for that training to finish, or cancel it where it runs/);
    assert.equal(winner.code, 130, `the winner trained until Ctrl+C:\n${winner.stdout}\n${winner.stderr}`);
    assert.match(winner.stdout, /resuming .*lock-run from step \d+/);
    assert.equal(assertConsistent("after two concurrent resumes").state, "cancelled");
});

test("the editor's sidecar and a terminal: whichever holds the run folder, the other is refused naming it", HANG_GUARD, async (t) => {
    if (!(await engineOrSkip(t)) || !existsSync(join(runDir, "status.json"))) return;
    const { supervisor } = testSupervisor({ initializeParams: () => ({ workspaceRoot: workspace, workspaceTrusted: true }) });
    after(() => supervisor.stop());
    await supervisor.start();

    // The editor trains; the terminal is refused.
    const progressed = new Promise<void>((settle) => {
        const subscription = supervisor.onNotification(RunProgressNotification.type, (p) => {
            if (p.runId !== runId) return;
            subscription.dispose();
            settle();
        });
    });
    await supervisor.sendRequest(RunResumeRequest.type, { runId });
    await progressed;
    const refused = await runCli(["train", "--resume", runDir]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`lock-run is in use: the editor \\(sidecar integration test, pid ${process.pid}; its sidecar pid ${supervisor.pid}\\)`));
    await supervisor.sendRequest(RunCancelRequest.type, { runId });
    assertConsistent("after the editor's run");

    // The terminal trains; the editor is refused.
    let editorRefusal: unknown;
    let asked = false;
    const terminal = await runCli(["train", "--resume", runDir], (line, child) => {
        if (stepOf(line) === undefined || asked) return;
        asked = true;
        void supervisor.sendRequest(RunResumeRequest.type, { runId }).then(
            () => assert.fail("the editor's resume was accepted while a terminal trains the run"),
            (error: unknown) => {
                editorRefusal = error;
                child.kill("SIGINT");
            }
        );
    });
    assert.equal(terminal.code, 130, `${terminal.stdout}\n${terminal.stderr}`);
    assert.ok(editorRefusal instanceof ResponseError, String(editorRefusal));
    assert.equal(editorRefusal.code, SidecarErrorCode.RunLocked);
    const data = editorRefusal.data as SidecarErrorData;
    assert.equal(data.holder?.kind, "terminal");
    assert.equal(data.holder?.client, "lora-studio-cli");
    assert.match(editorRefusal.message, /is in use: a terminal \(lora-studio-cli, pid \d+; its sidecar pid \d+\)/);
    assertConsistent("after the terminal's run");
});
