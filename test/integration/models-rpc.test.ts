// models/list and models/pull through a real sidecar child process (issue 14, the editor's face of `lora-studio
// models`): the child gets a temporary HOME holding a fake Ollama store, LM Studio folder and node-llama-cpp folder,
// and lists them with the catalogue's memory estimates; a pull from a server on 127.0.0.1 reports progress as
// notifications, is cancelled through the request's token (the partial stays), and the next pull resumes it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CancellationTokenSource, ResponseError } from "vscode-jsonrpc";
import {
    ModelsListRequest, ModelsPullProgressNotification, ModelsPullRequest, SidecarErrorCode, type ModelsPullProgressParams, type SidecarErrorData
} from "../../sidecar/src/protocol/sidecar";
import { CATALOGUE, catalogueEntry } from "../../sidecar/src/models/catalogue";
import { presetMemoryEstimate } from "../../sidecar/src/models/catalogueEstimate";
import { detectPreset } from "../../sidecar/src/training/presets";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import type { SidecarSupervisor } from "../../extension/src/sidecar/supervisor";
import { sidecarScript, testSupervisor } from "./sidecarHarness";

const tmp = mkdtempSync(join(tmpdir(), "models-rpc-"));
const home = join(tmp, "home");
const workspace = join(tmp, "workspace");
const ollama = join(home, ".ollama", "models");
let tiny: Buffer;
let server: Server;
let base: string;
const requests: Array<{ path: string; range: string | undefined }> = [];
const stalled = new Set<string>();
let halfSent: () => void = () => {};

function place(path: string, bytes: Buffer | string = tiny): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
}

/** The child's environment: only the temporary HOME says where the tools keep their models. */
function childEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    for (const key of ["OLLAMA_MODELS", "HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME", "HF_ENDPOINT", "HF_TOKEN"]) delete env[key];
    return env;
}

/** Every sidecar started, stopped again in `after` should a failed test leave one waiting on a stalled download. */
const started: SidecarSupervisor[] = [];

function sidecar(trusted = true): SidecarSupervisor {
    const { supervisor } = testSupervisor({ scriptPath: sidecarScript, env: childEnv(), initializeParams: () => ({ workspaceRoot: workspace, workspaceTrusted: trusted }) });
    started.push(supervisor);
    return supervisor;
}

before(async () => {
    const path = join(tmp, "tiny.gguf");
    makeTinyModel({ out: path });
    tiny = readFileSync(path);
    const digest = createHash("sha256").update(tiny).digest("hex");
    place(join(ollama, "blobs", `sha256-${digest}`));
    place(join(ollama, "manifests", "registry.ollama.ai", "library", "llama3.2", "1b"), JSON.stringify({
        schemaVersion: 2, layers: [{ mediaType: "application/vnd.ollama.image.model", digest: `sha256:${digest}`, size: tiny.length }]
    }));
    place(join(home, ".lmstudio", "models", "broken", "garbage.gguf"), "this is not a GGUF file at all");
    place(join(home, ".node-llama-cpp", "models", "hf_org_tiny.gguf"));
    place(join(workspace, "models", "mine.gguf"));
    // The modelsFolder setting's folder holds a catalogue entry's file, so the catalogue leaves that entry out.
    place(join(home, "my-models", "Qwen_Qwen3-0.6B-Q4_K_M.gguf"));

    server = createServer((req, res) => {
        const url = req.url ?? "/";
        const range = req.headers.range;
        requests.push({ path: url, range });
        if (url.endsWith("/missing.gguf")) return void res.writeHead(404).end("Entry not found");
        const half = Math.floor(tiny.length / 2);
        if (url.startsWith("/stall/") && range === undefined && !stalled.has(url)) {
            // Half the file, then silence: only the client's cancel ends this download.
            stalled.add(url);
            res.writeHead(200, { "content-length": tiny.length });
            res.write(tiny.subarray(0, half), () => halfSent());
            return;
        }
        const from = Number(/^bytes=(\d+)-$/.exec(range ?? "")?.[1] ?? 0);
        const headers = from > 0 ? { "content-length": tiny.length - from, "content-range": `bytes ${from}-${tiny.length - 1}/${tiny.length}` } : { "content-length": tiny.length };
        res.writeHead(from > 0 ? 206 : 200, headers).end(tiny.subarray(from));
    });
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
    await Promise.all(started.map((s) => s.stop()));
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    rmSync(tmp, { recursive: true, force: true });
});

function pullError(error: unknown, code: number): SidecarErrorData {
    assert.ok(error instanceof ResponseError, `expected a ResponseError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error.data as SidecarErrorData;
}

test("models/list finds the models under the child's HOME and the modelsFolder setting, and prices the catalogue with a preset", { timeout: 60_000 }, async () => {
    const s = sidecar();
    try {
        const list = await s.sendRequest(ModelsListRequest.type, { modelsFolder: "~/my-models", preset: "gpu-12gb" });
        assert.deepEqual(list.models.map((m) => `${m.source} ${m.name} ${m.readable}`), [
            "workspace models/mine.gguf true",
            "modelsFolder Qwen_Qwen3-0.6B-Q4_K_M.gguf true",
            "ollama llama3.2:1b true",
            "lmstudio broken/garbage.gguf false",
            "node-llama-cpp hf_org_tiny.gguf true"
        ]);
        const garbage = list.models.find((m) => !m.readable);
        assert.ok(garbage && !garbage.readable && /garbage\.gguf/.test(garbage.reason), "an unreadable file is listed with the reason");
        const llama = list.models.find((m) => m.source === "ollama");
        assert.ok(llama?.readable && llama.facts.architecture === "llama" && llama.facts.trainable);
        assert.equal(list.downloadFolder, join(home, "my-models"));
        assert.ok(list.searched.some((f) => f.source === "ollama" && f.folder === ollama && f.status === "searched"), JSON.stringify(list.searched));

        assert.equal(list.preset, "gpu-12gb");
        assert.deepEqual(list.notDownloaded.map((o) => o.id), CATALOGUE.filter((e) => e.id !== "qwen3-0.6b").map((e) => e.id));
        for (const offer of list.notDownloaded) {
            const entry = catalogueEntry(offer.id)!;
            assert.equal(offer.downloadBytes, entry.downloadBytes);
            const expected = presetMemoryEstimate(entry.shape, "gpu-12gb");
            assert.deepEqual(offer.memory, { totalBytes: expected.totalBytes, presetMemoryBytes: expected.presetMemoryBytes, fits: expected.fits });
        }

        // Without a preset the machine's own is used; without the setting downloads go to node-llama-cpp's folder.
        const plain = await s.sendRequest(ModelsListRequest.type, {});
        const caps = s.serverInfo!.capabilities;
        assert.equal(plain.preset, detectPreset({ cuda: caps.cuda, ...(caps.devices[0] ? { totalBytes: caps.devices[0].totalBytes } : {}) }));
        assert.equal(plain.downloadFolder, join(home, ".node-llama-cpp", "models"));
        assert.ok(!plain.models.some((m) => m.source === "modelsFolder"));

        await assert.rejects(s.sendRequest(ModelsListRequest.type, { preset: "gpu-8gb" as "cpu" }), (error) => {
            pullError(error, SidecarErrorCode.InvalidParams);
            return /unknown preset "gpu-8gb"/.test((error as Error).message);
        });
    } finally {
        await s.stop();
    }
});

test("models/pull reports progress, is cancelled by its token keeping the partial, and the next pull resumes it byte-identical", { timeout: 60_000 }, async () => {
    const s = sidecar();
    const dir = join(tmp, "downloads");
    const uri = `${base}/stall/model.gguf`;
    const progress: ModelsPullProgressParams[] = [];
    const subscription = s.onNotification(ModelsPullProgressNotification.type, (p) => progress.push(p));
    try {
        const sent = new Promise<void>((done) => (halfSent = done));
        const cancel = new CancellationTokenSource();
        const firstProgress = new Promise<void>((done) => {
            const once = s.onNotification(ModelsPullProgressNotification.type, (p) => {
                if (p.pullId === "first" && p.downloadedBytes > 0) {
                    once.dispose();
                    done();
                }
            });
        });
        const cancelled = s.sendRequest(ModelsPullRequest.type, { uri, dir, pullId: "first" }, { token: cancel.token });
        await Promise.all([sent, firstProgress]);
        cancel.cancel();
        const data = await cancelled.then(() => assert.fail("a cancelled pull must not succeed"), (error: unknown) => pullError(error, SidecarErrorCode.ModelPullFailed));
        assert.equal(data.pullProblem, "cancelled");
        assert.equal(data.partialFile, join(dir, "model.gguf.partial"));
        assert.match(data.hint, /resume/);
        const kept = statSync(data.partialFile).size;
        assert.ok(kept > 0 && kept < tiny.length, `the partial holds ${kept} of ${tiny.length} bytes`);
        assert.equal(existsSync(join(dir, "model.gguf")), false);
        assert.ok(progress.every((p) => p.pullId === "first" && p.totalBytes === tiny.length));

        const done = await s.sendRequest(ModelsPullRequest.type, { uri, dir, pullId: "second" });
        assert.equal(done.path, join(dir, "model.gguf"));
        assert.equal(done.resumedFrom, kept);
        assert.equal(done.alreadyPresent, false);
        assert.ok(done.model.readable && done.model.facts.architecture === "llama" && done.model.source === "modelsFolder");
        assert.equal(requests.filter((r) => r.path === "/stall/model.gguf").at(-1)?.range, `bytes=${kept}-`);
        assert.ok(readFileSync(done.path).equals(tiny), "the resumed file is the served file");
        assert.deepEqual(readdirSync(dir), ["model.gguf"]);
        const second = progress.filter((p) => p.pullId === "second");
        assert.ok(second.length >= 2, "progress arrives while downloading");
        assert.equal(second[0]!.resumedFrom, kept);
        assert.equal(second.at(-1)!.downloadedBytes, tiny.length, "the last progress is the whole file");
        assert.ok(second.length <= 102, `at most one notification per percent: ${second.length}`);
    } finally {
        subscription.dispose();
        await s.stop();
    }
});

test("models/pull: a 404 fails with the status and leaves nothing; an untrusted workspace may list but not pull", { timeout: 60_000 }, async () => {
    const s = sidecar();
    const dir = join(tmp, "missing");
    try {
        const error = await s.sendRequest(ModelsPullRequest.type, { uri: `${base}/x/missing.gguf`, dir, pullId: "404" }).catch((e: unknown) => e);
        assert.equal(pullError(error, SidecarErrorCode.ModelPullFailed).pullProblem, "http");
        assert.match((error as Error).message, /not found \(HTTP 404/);
        assert.deepEqual(readdirSync(dir), []);
    } finally {
        await s.stop();
    }
    const untrusted = sidecar(false);
    try {
        assert.ok((await untrusted.sendRequest(ModelsListRequest.type, {})).models.length > 0, "listing reads headers only, so Restricted Mode allows it");
        const error = await untrusted.sendRequest(ModelsPullRequest.type, { uri: `${base}/plain/model.gguf`, dir, pullId: "untrusted" }).catch((e: unknown) => e);
        pullError(error, SidecarErrorCode.WorkspaceUntrusted);
        assert.deepEqual(readdirSync(dir), []);
    } finally {
        await untrusted.stop();
    }
});
