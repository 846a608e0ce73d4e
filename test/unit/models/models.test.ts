// The pure parts of issue 14's model discovery and download: where each tool keeps its models, Ollama's names, the
// catalogue's URIs, and how a pull URI resolves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CATALOGUE, catalogueFileName, catalogueNotOnDisk } from "../../../sidecar/src/models/catalogue";
import { huggingFaceHubCache, ollamaModelFolders, standardModelFolders } from "../../../sidecar/src/models/locations";
import { ollamaModelName } from "../../../sidecar/src/models/ollamaStore";
import { ModelPullError, resolvePullUri } from "../../../sidecar/src/models/pull";

const linux = (env: Record<string, string>) => ({ home: "/home/u", platform: "linux" as const, env });

test("the Hugging Face cache follows huggingface_hub's order: HF_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME, ~/.cache", () => {
    assert.equal(huggingFaceHubCache(linux({ HF_HUB_CACHE: "/c", HF_HOME: "/h" })), "/c");
    assert.equal(huggingFaceHubCache(linux({ HF_HOME: "/h", XDG_CACHE_HOME: "/x" })), "/h/hub");
    assert.equal(huggingFaceHubCache(linux({ XDG_CACHE_HOME: "/x" })), "/x/huggingface/hub");
    assert.equal(huggingFaceHubCache(linux({})), "/home/u/.cache/huggingface/hub");
    assert.equal(huggingFaceHubCache({ home: "C:\\Users\\u", platform: "win32", env: {} }), "C:\\Users\\u\\.cache\\huggingface\\hub");
});

test("OLLAMA_MODELS replaces Ollama's default stores; every tool's folder is searched", () => {
    assert.deepEqual(ollamaModelFolders(linux({ OLLAMA_MODELS: "/o" })), ["/o"]);
    assert.deepEqual(ollamaModelFolders(linux({})), ["/home/u/.ollama/models", "/usr/share/ollama/.ollama/models"]);
    assert.deepEqual(ollamaModelFolders({ home: "/Users/u", platform: "darwin", env: {} }), ["/Users/u/.ollama/models"]);
    assert.deepEqual(standardModelFolders(linux({ OLLAMA_MODELS: "/o" })).map((f) => `${f.source} ${f.folder}`), [
        "ollama /o", "lmstudio /home/u/.lmstudio/models", "lmstudio /home/u/.cache/lm-studio/models",
        "huggingface /home/u/.cache/huggingface/hub", "node-llama-cpp /home/u/.node-llama-cpp/models"
    ]);
});

test("Ollama models are named as `ollama list` names them", () => {
    assert.equal(ollamaModelName("registry.ollama.ai", "library", "llama3.2", "1b"), "llama3.2:1b");
    assert.equal(ollamaModelName("registry.ollama.ai", "user", "m", "latest"), "user/m:latest");
    assert.equal(ollamaModelName("hf.co", "bartowski", "x-GGUF", "Q4_K_M"), "hf.co/bartowski/x-GGUF:Q4_K_M");
});

test("the catalogue has the issue's twelve models, each an exact Q4_K_M hf: file with a size", () => {
    assert.equal(CATALOGUE.length, 12);
    assert.equal(new Set(CATALOGUE.map((e) => e.id)).size, 12);
    for (const e of CATALOGUE) {
        assert.match(e.uri, /^hf:[\w.-]+\/[\w.-]+-GGUF\/[\w.-]+[.-]Q4_K_M\.gguf$/, e.id);
        assert.ok(e.downloadBytes > 0.3e9 && e.downloadBytes < 5e9, e.id);
        assert.equal(resolvePullUri(e.uri, {}).fileName, catalogueFileName(e));
    }
    const missing = (paths: string[]): string[] => catalogueNotOnDisk(paths).map((e) => e.id);
    assert.equal(missing(["/x/llama-3.2-1b-instruct-q4_k_m.gguf"]).includes("llama-3.2-1b-instruct"), false);
    assert.equal(missing(["/m/hf_bartowski_Llama-3.2-1B-Instruct-Q4_K_M.gguf"]).includes("llama-3.2-1b-instruct"), false, "node-llama-cpp's name");
    assert.equal(missing(["/m/other-Llama-3.2-1B-Instruct-Q4_K_M.gguf"]).includes("llama-3.2-1b-instruct"), true);
});

test("pull URIs: hf: against HF_ENDPOINT or huggingface.co, http(s) URLs by their file name, anything else refused", () => {
    assert.deepEqual(resolvePullUri("hf:org/Repo-GGUF/sub/m+1.gguf", {}), {
        url: "https://huggingface.co/org/Repo-GGUF/resolve/main/sub/m%2B1.gguf", fileName: "m+1.gguf", tokenOrigin: "https://huggingface.co"
    });
    assert.equal(resolvePullUri("hf:o/r/m.gguf", { HF_ENDPOINT: "http://127.0.0.1:9/mirror/" }).url, "http://127.0.0.1:9/mirror/o/r/resolve/main/m.gguf");
    assert.deepEqual(resolvePullUri("https://host/a/b%20c.gguf?download=1", {}), { url: "https://host/a/b%20c.gguf?download=1", fileName: "b c.gguf" });
    for (const bad of ["ollama:llama3", "hf:org/repo:Q4_K_M", "https://host/", "/tmp/x.gguf"]) {
        assert.throws(() => resolvePullUri(bad, {}), (e: unknown) => e instanceof ModelPullError && e.problem === "bad-uri", bad);
    }
});
