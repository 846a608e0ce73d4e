// "LoRA Studio: Choose Base Model" in a real VS Code (code-server + Chromium): the in-host chooseBaseModel suite runs
// the command with a scripted pick over a real workspace, the real sidecar and a fake Ollama store (OLLAMA_MODELS, a
// manifest naming the tiny model's blob as `llama3.2:1b`), and checks the setting it writes; a catalogue pick
// downloads from a hub on 127.0.0.1 (HF_ENDPOINT) through the progress notification.
// Screenshot: test-results/e2e/choose-base-model/after-choose.png.
import * as assert from "node:assert/strict";
import { test } from "node:test";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeFailures } from "../host/report";
import { fixturePath } from "../oracle/fixtures";
import { withSession } from "./harness/session";

/** An Ollama store with one model, as `ollama pull` lays it out: a manifest under its name, the GGUF as a blob. */
function fakeOllamaStore(model: string): string {
    const store = mkdtempSync(join(tmpdir(), "e2e-ollama-"));
    const digest = createHash("sha256").update(readFileSync(model)).digest("hex");
    mkdirSync(join(store, "blobs"), { recursive: true });
    copyFileSync(model, join(store, "blobs", `sha256-${digest}`));
    const manifests = join(store, "manifests", "registry.ollama.ai", "library", "llama3.2");
    mkdirSync(manifests, { recursive: true });
    writeFileSync(join(manifests, "1b"), JSON.stringify({ schemaVersion: 2, layers: [{ mediaType: "application/vnd.ollama.image.model", digest: `sha256:${digest}` }] }));
    return store;
}

/** A hub on 127.0.0.1 that serves the tiny model for every `resolve/main` file, recording the paths asked for. */
async function fakeHub(model: string): Promise<{ server: Server; endpoint: string; paths: string[] }> {
    const bytes = readFileSync(model);
    const paths: string[] = [];
    const server = createServer((req, res) => {
        paths.push(req.url ?? "");
        if (!(req.url ?? "").includes("/resolve/main/")) return void res.writeHead(404).end();
        res.writeHead(200, { "content-length": bytes.length }).end(bytes);
    });
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
}

test("in-host Choose Base Model: found models by source and the catalogue are offered; the pick sets loraStudio.baseModel; a catalogue pick downloads", async () => {
    const model = fixturePath("tiny-f32.gguf");
    const store = fakeOllamaStore(model);
    const hub = await fakeHub(model);
    try {
        const env = { LORA_STUDIO_TEST_TINY_MODEL: model, OLLAMA_MODELS: store, HF_ENDPOINT: hub.endpoint };
        await withSession({ name: "choose-base-model", hostSuites: ["chooseBaseModel"], env }, async (session) => {
            const { exitCode, report } = await session.hostTestsResult();
            await session.screenshot("after-choose");
            assert.ok(report, `the in-host run wrote no report (exit code ${exitCode}).\ncode-server output:\n${session.serverOutput}`);
            assert.equal(report.failed, 0, describeFailures(report));
            assert.equal(report.passed, 3);
            assert.equal(exitCode, 0);
        });
        assert.deepEqual(hub.paths, ["/bartowski/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf"], "the catalogue's hf: URI, resolved against HF_ENDPOINT");
    } finally {
        hub.server.closeAllConnections();
        await new Promise((done) => hub.server.close(done));
        rmSync(store, { recursive: true, force: true });
    }
});

test("in-host Choose Base Model in Restricted Mode: listed, but not chosen", async () => {
    const env = { LORA_STUDIO_TEST_TINY_MODEL: fixturePath("tiny-f32.gguf") };
    await withSession({ name: "choose-base-model-untrusted", hostSuites: ["chooseBaseModelUntrusted"], workspaceTrust: true, env }, async (session) => {
        const { exitCode, report } = await session.hostTestsResult();
        await session.screenshot("restricted-mode");
        assert.ok(report, `the in-host run wrote no report (exit code ${exitCode}).\ncode-server output:\n${session.serverOutput}`);
        assert.equal(report.failed, 0, describeFailures(report));
        assert.equal(report.passed, 1);
        assert.equal(exitCode, 0);
    });
});
