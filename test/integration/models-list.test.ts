// `lora-studio models list` in a temporary HOME holding a fake Ollama store, LM Studio folder, Hugging Face cache and
// node-llama-cpp folder, a workspace (the CLI's cwd) and a --dir (issue 14): every GGUF is listed under its tool's
// name with its header's facts, a garbage .gguf is listed as unreadable with the reason, node_modules is skipped, and
// the catalogue lists only what is not on disk.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { CATALOGUE } from "../../sidecar/src/models/catalogue";
import type { FoundModel, SearchedFolder } from "../../sidecar/src/models/types";
import { CLI } from "./trainCliHarness";

const tmp = mkdtempSync(join(tmpdir(), "models-list-"));
const home = join(tmp, "home");
const workspace = join(tmp, "workspace");
const modelsDir = join(tmp, "models");
const ollama = join(tmp, "ollama-store");
const hfHome = join(tmp, "hf");
let tiny: string;

function place(path: string, from = tiny): void {
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(from, path);
}

before(() => {
    tiny = join(tmp, "tiny.gguf");
    makeTinyModel({ out: tiny });
    // Ollama: a manifest naming the model layer's blob by digest.
    const digest = createHash("sha256").update(readFileSync(tiny)).digest("hex");
    place(join(ollama, "blobs", `sha256-${digest}`));
    mkdirSync(join(ollama, "manifests", "registry.ollama.ai", "library", "llama3.2"), { recursive: true });
    writeFileSync(join(ollama, "manifests", "registry.ollama.ai", "library", "llama3.2", "1b"), JSON.stringify({
        schemaVersion: 2,
        layers: [{ mediaType: "application/vnd.ollama.image.model", digest: `sha256:${digest}`, size: 1 }, { mediaType: "application/vnd.ollama.image.template", digest: `sha256:${"0".repeat(64)}` }]
    }));
    // LM Studio: publisher/repo/file, and a garbage .gguf beside it.
    place(join(home, ".lmstudio", "models", "lmstudio-community", "Tiny-GGUF", "tiny-Q8_0.gguf"));
    mkdirSync(join(home, ".lmstudio", "models", "broken"), { recursive: true });
    writeFileSync(join(home, ".lmstudio", "models", "broken", "garbage.gguf"), "this is not a GGUF file at all");
    // Hugging Face hub cache: the snapshot's file is a link to the blob.
    const repo = join(hfHome, "hub", "models--org--Tiny-GGUF");
    place(join(repo, "blobs", "0123abcd"));
    mkdirSync(join(repo, "snapshots", "abc123"), { recursive: true });
    symlinkSync(join("..", "..", "blobs", "0123abcd"), join(repo, "snapshots", "abc123", "tiny-f32.gguf"));
    // node-llama-cpp's folder, the workspace (and a node_modules that is never searched), and --dir holding a
    // catalogue entry's file.
    place(join(home, ".node-llama-cpp", "models", "hf_org_tiny.gguf"));
    place(join(workspace, "models", "mine.gguf"));
    place(join(workspace, "node_modules", "pkg", "hidden.gguf"));
    place(join(modelsDir, "Qwen_Qwen3-0.6B-Q4_K_M.gguf"));
});

after(() => rmSync(tmp, { recursive: true, force: true }));

function list(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, OLLAMA_MODELS: ollama, HF_HOME: hfHome, XDG_CACHE_HOME: join(home, ".cache") };
    delete env.HF_HUB_CACHE;
    delete env.HUGGINGFACE_HUB_CACHE;
    const child = spawn(process.execPath, [CLI, "models", "list", ...args], { cwd: workspace, stdio: ["ignore", "pipe", "pipe"], env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    return new Promise((settle, fail) => {
        child.on("error", fail);
        child.on("close", (code) => settle({ code, stdout, stderr }));
    });
}

test("models list --json finds each tool's models under its own names, with their header's facts", async () => {
    const r = await list(["--json", "--dir", modelsDir]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { models: FoundModel[]; searched: SearchedFolder[]; notDownloaded: Array<{ id: string }> };
    const names = out.models.map((m) => `${m.source} ${m.name}`);
    assert.deepEqual(names, [
        "workspace models/mine.gguf",
        "modelsFolder Qwen_Qwen3-0.6B-Q4_K_M.gguf",
        "ollama llama3.2:1b",
        "lmstudio broken/garbage.gguf",
        "lmstudio lmstudio-community/Tiny-GGUF/tiny-Q8_0.gguf",
        "huggingface org/Tiny-GGUF/tiny-f32.gguf",
        "node-llama-cpp hf_org_tiny.gguf"
    ]);
    const ollamaModel = out.models.find((m) => m.source === "ollama")!;
    assert.ok(ollamaModel.readable);
    assert.equal(ollamaModel.path, join(ollama, "blobs", ollamaModel.path.split("/").pop()!));
    assert.equal(ollamaModel.facts.architecture, "llama");
    assert.equal(ollamaModel.facts.quantization, "F32");
    assert.equal(ollamaModel.facts.trainable, true);
    assert.ok(ollamaModel.facts.parameterCount > 0);
    assert.ok((ollamaModel.facts.contextLength ?? 0) > 0);
    const garbage = out.models.find((m) => m.name === "broken/garbage.gguf")!;
    assert.equal(garbage.readable, false);
    assert.ok(!garbage.readable && /garbage\.gguf/.test(garbage.reason) && /GGUF|magic/i.test(garbage.reason), JSON.stringify(garbage));
    assert.ok(out.searched.some((s) => s.source === "huggingface" && s.folder === join(hfHome, "hub") && s.status === "searched"));
    assert.deepEqual(out.notDownloaded.map((e) => e.id), CATALOGUE.filter((e) => e.id !== "qwen3-0.6b").map((e) => e.id));
});

test("models list prints the same as text, with the unreadable file's reason and the catalogue's pull commands", async () => {
    const r = await list([]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Workspace:\n {2}models\/mine\.gguf\n {6}llama, [\d.]+[MK] params, F32, ctx \d+, .*; trainable/m);
    assert.match(r.stdout, /^Ollama:\n {2}llama3\.2:1b\n/m);
    assert.match(r.stdout, /broken\/garbage\.gguf\n {6}unreadable: .*garbage\.gguf/);
    assert.match(r.stdout, /lora-studio models pull hf:bartowski\/Qwen_Qwen3-0\.6B-GGUF\/Qwen_Qwen3-0\.6B-Q4_K_M\.gguf/, "without --dir the catalogue entry is not on disk");
    assert.doesNotMatch(r.stdout, /hidden\.gguf/);
});
