// Locates the tokenizer and chat-template files that ship inside node-llama-cpp's llama.cpp bundle,
// so the tiny model carries a real tokenizer without any download.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

function nodeLlamaCppRoot(): string {
    const entry = createRequire(import.meta.url).resolve("node-llama-cpp");
    let dir = dirname(entry);
    while (dir !== dirname(dir)) {
        const pkg = join(dir, "package.json");
        if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "node-llama-cpp") return dir;
        dir = dirname(dir);
    }
    throw new Error(`could not find node-llama-cpp's package root above ${entry}; run \`npm ci\``);
}

/**
 * A pristine checkout of the pinned llama.cpp (vocab GGUFs, chat templates, gguf-py), cloned once from
 * node-llama-cpp's git bundle into `.cache/llama.cpp-src/<head>`. node-llama-cpp only unpacks
 * `llama/llama.cpp` when its postinstall builds from source, which a normal install with the CPU prebuilt
 * does not do, so we never rely on that folder.
 */
let sourceDirCache: string | undefined;

export function llamaCppSourceDir(): string {
    // A machine without node_modules (the GPU benchmark machine, bench/gpu/run.sh) points at an unpacked copy.
    const given = process.env.LORA_STUDIO_LLAMA_CPP_SRC;
    if (given && existsSync(join(given, "models"))) return given;
    sourceDirCache ??= cloneLlamaCppSource();
    return sourceDirCache;
}

function cloneLlamaCppSource(): string {
    const pkgRoot = nodeLlamaCppRoot();
    const bundle = join(pkgRoot, "llama", "gitRelease.bundle");
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing; node-llama-cpp is incomplete (run \`npm ci\`)`);
    const head = execFileSync("git", ["bundle", "list-heads", bundle], { encoding: "utf8" }).trim().split(/\s+/)[0] ?? "unknown";
    const cacheRoot = join(pkgRoot, "..", "..", ".cache", "llama.cpp-src");
    const dir = join(cacheRoot, head.slice(0, 12));
    if (existsSync(join(dir, "models"))) return dir;
    // Clone into a staging folder and rename, so a killed clone never leaves a half-filled checkout behind.
    mkdirSync(cacheRoot, { recursive: true });
    const staging = `${dir}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    execFileSync("git", ["-c", "advice.detachedHead=false", "clone", "--quiet", bundle, staging], { stdio: ["ignore", "ignore", "pipe"] });
    try {
        renameSync(staging, dir);
    } catch (err) {
        // Another process won the race; its checkout is as good as ours.
        rmSync(staging, { recursive: true, force: true });
        if (!existsSync(join(dir, "models"))) throw err;
    }
    return dir;
}

export function bundledVocabPath(name: string): string {
    const p = join(llamaCppSourceDir(), "models", `ggml-vocab-${name}.gguf`);
    if (!existsSync(p)) throw new Error(`vocabulary ${p} not found in node-llama-cpp's llama.cpp bundle`);
    return p;
}

export function bundledTemplatePath(name: string): string {
    const p = join(llamaCppSourceDir(), "models", "templates", `${name}.jinja`);
    if (!existsSync(p)) throw new Error(`chat template ${p} not found in node-llama-cpp's llama.cpp bundle`);
    return p;
}
