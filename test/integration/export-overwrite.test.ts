// Exports never overwrite (issue 12.4), through both faces: `lora-studio export --out` equal to the base model or the
// adapter is refused and leaves it byte for byte as it was; an existing other file is replaced only with --force
// (the CLI) or `overwrite: true` after ExportTargetExists (export/run, what the editor sends once the user confirms).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ResponseError } from "vscode-jsonrpc";
import { ExportRunRequest, SidecarErrorCode } from "../../sidecar/src/protocol/sidecar";
import { GGUF_MAGIC } from "../../sidecar/src/gguf";
import { factsAdapter, type FactsAdapter } from "../oracle/trainedAdapter";
import { engineSkip } from "./engineHarness";
import { testSupervisor } from "./sidecarHarness";
import { runCli } from "./trainCliHarness";

const dir = mkdtempSync(join(tmpdir(), "export-overwrite-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const sha = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

let fx: FactsAdapter;
before(async () => {
    fx = await factsAdapter();
});

test("lora-studio export never replaces an input, and replaces another file only with --force", { timeout: 10 * 60_000 }, async () => {
    // Copies, so a regression cannot destroy the shared fixture.
    const model = join(dir, "base.gguf");
    const adapter = join(dir, "adapter.gguf");
    copyFileSync(fx.model, model);
    copyFileSync(fx.adapter, adapter);
    const before = { model: sha(model), adapter: sha(adapter) };
    for (const [out, role] of [[model, "the base model"], [adapter, "the adapter"]] as const) {
        for (const force of [[], ["--force"]]) {
            const r = await runCli(["export", "--model", model, "--adapter", adapter, "--format", "merged", "--out", out, ...force]);
            assert.equal(r.code, 1, r.stderr);
            assert.match(r.stderr, new RegExp(`would overwrite its own input: .* is ${role}`));
        }
    }
    assert.deepEqual({ model: sha(model), adapter: sha(adapter) }, before, "both inputs untouched");

    const out = join(dir, "copy.gguf");
    writeFileSync(out, "an older export");
    const refused = await runCli(["export", "--model", model, "--adapter", adapter, "--format", "gguf-lora", "--out", out]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /copy\.gguf already exists; .*pass --force to replace/);
    assert.equal(readFileSync(out, "utf8"), "an older export");
    const forced = await runCli(["export", "--model", model, "--adapter", adapter, "--format", "gguf-lora", "--out", out, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(sha(out), before.adapter);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(".tmp-")), [], "no temporary file left");
});

test("export/run answers ExportTargetExists with the paths, and replaces them with overwrite: true", { skip: engineSkip, timeout: 10 * 60_000 }, async () => {
    const { supervisor } = testSupervisor();
    try {
        const runDirectory = dirname(fx.adapter);
        const out = join(dir, "rpc", "adapter-copy.gguf");
        await supervisor.sendRequest(ExportRunRequest.type, { runDirectory, format: "gguf-lora", out });
        assert.equal(readFileSync(out).readUInt32LE(0), GGUF_MAGIC);
        await assert.rejects(supervisor.sendRequest(ExportRunRequest.type, { runDirectory, format: "gguf-lora", out }), (e: unknown) => {
            assert.ok(e instanceof ResponseError);
            assert.equal(e.code, SidecarErrorCode.ExportTargetExists);
            assert.deepEqual((e.data as { paths: string[] }).paths, [out]);
            return true;
        });
        const again = await supervisor.sendRequest(ExportRunRequest.type, { runDirectory, format: "gguf-lora", out, overwrite: true });
        assert.equal(again.path, out);
        await assert.rejects(
            supervisor.sendRequest(ExportRunRequest.type, { runDirectory, format: "merged", out: join(runDirectory, "config.json"), overwrite: true }),
            (e: unknown) => e instanceof ResponseError && e.code === SidecarErrorCode.InvalidParams && /would overwrite its own input: .*config\.json is a file of the run/.test(e.message)
        );
        assert.ok(existsSync(join(runDirectory, "config.json")));
    } finally {
        await supervisor.stop();
    }
});
