// Builds the native training engine: sidecar/native/build/Release/lora_studio_engine.node.
//
// 1. Clones llama.cpp (the tag in sidecar/native/patches/manifest.json) from node-llama-cpp's git bundle,
//    so no network is needed, and applies the numbered patches in manifest order.
// 2. Syncs the result into sidecar/native/build/llama.cpp, rewriting only files whose content changed, so
//    an incremental CMake build recompiles only what the patches touched.
// 3. Configures and builds sidecar/native/CMakeLists.txt (static llama.cpp + the N-API addon), two jobs.
//
// Cached: a hash of (bundle head, tag, manifest, patches, addon sources, flags) is stored next to the output;
// when it matches, nothing runs. `LORA_STUDIO_CUDA=1` builds the CUDA backend as well (LORA_STUDIO_CUDA_ARCHS,
// LORA_STUDIO_CUDA_STATIC, LORA_STUDIO_BUILD_JOBS tune it; see docs/cuda.md). `--force` rebuilds.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
    existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, renameSync, unlinkSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const nativeDir = join(root, "sidecar", "native");
const buildDir = join(nativeDir, "build");
const patchesDir = join(nativeDir, "patches");
const srcDir = join(buildDir, "llama.cpp");
const outDir = join(buildDir, "Release");
const outFile = join(outDir, "lora_studio_engine.node");
const stampFile = join(outDir, "lora_studio_engine.stamp.json");
const bundle = join(root, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
// Two jobs by default (the shared 2-core CI and dev machines); a GPU build machine sets LORA_STUDIO_BUILD_JOBS.
const JOBS = /^[1-9][0-9]*$/.test(process.env.LORA_STUDIO_BUILD_JOBS ?? "") ? process.env.LORA_STUDIO_BUILD_JOBS : "2";

const cuda = process.env.LORA_STUDIO_CUDA === "1";
// CUDA builds link the CUDA runtime and cuBLAS statically by default, so the user's machine needs only the NVIDIA
// driver (docs/cuda.md). LORA_STUDIO_CUDA_STATIC=0 links them dynamically (the toolkit's .so files at run time).
const cudaStatic = process.env.LORA_STUDIO_CUDA_STATIC !== "0";
// "native" = the GPUs of the build machine; a distributable build lists them, e.g. "75-virtual;80;86;89;90".
const cudaArchs = process.env.LORA_STUDIO_CUDA_ARCHS || "native";
const force = process.argv.includes("--force");

function fail(message) {
    console.error(`build-native: ${message}`);
    process.exit(1);
}

function run(cmd, args, opts = {}) {
    const r = spawnSync(cmd, args, { stdio: "inherit", ...opts });
    if (r.error) fail(`cannot run ${cmd}: ${r.error.message}`);
    if (r.status !== 0) fail(`\`${cmd} ${args.join(" ")}\` failed with exit code ${r.status}`);
}

function capture(cmd, args, opts = {}) {
    const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
    if (r.error) fail(`cannot run ${cmd}: ${r.error.message}`);
    if (r.status !== 0) fail(`\`${cmd} ${args.join(" ")}\` failed: ${r.stderr.trim()}`);
    return r.stdout;
}

function hasCommand(cmd) {
    return spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
}

// Files of a tree (relative paths), skipping .git.
function listFiles(dir, base = dir, acc = []) {
    for (const name of readdirSync(dir)) {
        if (name === ".git") continue;
        const p = join(dir, name);
        const st = statSync(p);
        if (st.isDirectory()) listFiles(p, base, acc);
        else acc.push(relative(base, p));
    }
    return acc;
}

// --- inputs -------------------------------------------------------------------------------------------

// LORA_STUDIO_PATCHED_LLAMA_CPP: a llama.cpp tree with the patches already applied, made by bench/gpu/make-kit.sh
// for a build machine without git or node_modules; its lora-studio-patches.json must match the patches here.
const patchedSrc = process.env.LORA_STUDIO_PATCHED_LLAMA_CPP || "";
if (!patchedSrc && !existsSync(bundle)) fail(`${relative(root, bundle)} is missing; run npm ci first`);
const manifestPath = join(patchesDir, "manifest.json");
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const tag = manifest.llamaCpp?.tag;
const bundleInfo = patchedSrc ? { tag } : JSON.parse(readFileSync(join(dirname(bundle), "llama.cpp.info.json"), "utf8"));
if (bundleInfo.tag !== tag) {
    fail(`the bundle holds llama.cpp ${bundleInfo.tag}, the patches are for ${tag} (${relative(root, manifestPath)})`);
}
for (const [i, p] of manifest.patches.entries()) {
    for (const field of ["file", "title", "why", "upstream"]) {
        if (!p[field]) fail(`${relative(root, manifestPath)}: patches[${i}].${field} is missing`);
    }
    if (!existsSync(join(patchesDir, p.file))) fail(`${relative(root, manifestPath)}: patches[${i}].file ${p.file} does not exist`);
}
const listed = new Set(manifest.patches.map((p) => p.file));
for (const f of readdirSync(patchesDir).filter((f) => f.endsWith(".patch"))) {
    if (!listed.has(f)) fail(`patch ${f} is not listed in ${relative(root, manifestPath)}`);
}

const nodeInclude = join(dirname(dirname(process.execPath)), "include", "node");
if (!existsSync(join(nodeInclude, "node_api.h"))) {
    fail(`Node.js headers not found at ${nodeInclude} (node_api.h); install the headers of this Node.js (Debian: the nodejs package ships them)`);
}
const addonApiDir = process.env.LORA_STUDIO_NODE_ADDON_API || join(root, "node_modules", "node-addon-api");
if (!existsSync(join(addonApiDir, "napi.h"))) fail("node-addon-api is missing; run npm ci first");

const generator = hasCommand("ninja") ? "Ninja" : "Unix Makefiles";
const cmakeFlags = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    // portable x86-64 binaries: AVX2-level instructions, not -march=native (CI builds run elsewhere)
    "-DGGML_NATIVE=OFF", "-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON", "-DGGML_BMI2=ON",
    "-DLLAMA_BUILD_COMMON=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_TOOLS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_SERVER=OFF", "-DLLAMA_BUILD_APP=OFF", "-DLLAMA_OPENSSL=OFF",
    ...(cuda ? cudaFlags() : ["-DGGML_CUDA=OFF"]),
];

function cudaFlags() {
    return [
        "-DGGML_CUDA=ON",
        `-DCMAKE_CUDA_ARCHITECTURES=${cudaArchs}`,
        // training turns flash attention off (FLASH_ATTN_EXT has no backward pass): its kernels are most of the
        // CUDA compile time and would never run
        "-DGGML_CUDA_FA=OFF",
        "-DGGML_CUDA_NCCL=OFF", // one GPU trains
        // no direct libcuda.so.1 dependency: the addon still loads without a driver and trains on the CPU
        "-DGGML_CUDA_NO_VMM=ON",
        ...(cudaStatic
            // GGML_STATIC links cudart_static, cublas_static and cublasLt_static; it also prefers .a files when
            // searching libraries, so OpenMP (libgomp.a is not always PIC) is replaced by ggml's own thread pool
            ? ["-DGGML_STATIC=ON", "-DGGML_OPENMP=OFF"]
            : []),
    ];
}

const patchesDigest = createHash("sha256");
for (const p of manifest.patches) patchesDigest.update(readFileSync(join(patchesDir, p.file)));
let bundleHead;
if (patchedSrc) {
    const stamp = JSON.parse(readFileSync(join(patchedSrc, "lora-studio-patches.json"), "utf8"));
    if (stamp.patches !== patchesDigest.digest("hex")) fail(`${patchedSrc} was patched with other patches than ${relative(root, patchesDir)}; remake it (bench/gpu/make-kit.sh)`);
    bundleHead = stamp.bundleHead;
} else {
    bundleHead = capture("git", ["bundle", "list-heads", bundle]).trim();
}
const hash = createHash("sha256");
hash.update(JSON.stringify({ tag, bundleHead, cmakeFlags, generator }));
hash.update(readFileSync(fileURLToPath(import.meta.url)));
hash.update(readFileSync(manifestPath));
for (const p of manifest.patches) hash.update(readFileSync(join(patchesDir, p.file)));
for (const f of ["CMakeLists.txt", ...listFiles(join(nativeDir, "addon")).sort().map((f) => join("addon", f))]) {
    hash.update(f);
    hash.update(readFileSync(join(nativeDir, f)));
}
const digest = hash.digest("hex");

if (!force && existsSync(outFile) && existsSync(stampFile)) {
    const stamp = JSON.parse(readFileSync(stampFile, "utf8"));
    if (stamp.hash === digest) {
        console.log(`build-native: ${relative(root, outFile)} is up to date`);
        process.exit(0);
    }
}

// --- sources: clone, patch, sync ----------------------------------------------------------------------

const started = Date.now();
mkdirSync(buildDir, { recursive: true });
const staging = join(buildDir, "llama.cpp.staging");
rmSync(staging, { recursive: true, force: true });
if (patchedSrc) {
    console.log(`build-native: using the patched llama.cpp ${tag} in ${patchedSrc}`);
    run("cp", ["-r", patchedSrc, staging]);
} else {
    console.log(`build-native: cloning llama.cpp ${tag} from the node-llama-cpp bundle`);
    run("git", ["-c", "advice.detachedHead=false", "clone", "--quiet", bundle, staging]);
}
for (const p of patchedSrc ? [] : manifest.patches) {
    const file = join(patchesDir, p.file);
    const check = spawnSync("git", ["-C", staging, "apply", "--check", file], { encoding: "utf8" });
    if (check.status !== 0) fail(`patch ${p.file} does not apply to llama.cpp ${tag}:\n${check.stderr}`);
    run("git", ["-C", staging, "apply", "--whitespace=nowarn", file]);
    console.log(`build-native: applied ${p.file}`);
}

mkdirSync(srcDir, { recursive: true });
const wanted = new Set(listFiles(staging));
let changed = 0;
for (const f of wanted) {
    const from = join(staging, f);
    const to = join(srcDir, f);
    const data = readFileSync(from);
    if (existsSync(to) && readFileSync(to).equals(data)) continue;
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, data, { mode: statSync(from).mode });
    changed++;
}
for (const f of listFiles(srcDir)) {
    if (!wanted.has(f)) {
        unlinkSync(join(srcDir, f));
        changed++;
    }
}
rmSync(staging, { recursive: true, force: true });
console.log(`build-native: ${changed} source files changed`);

// --- configure and build ------------------------------------------------------------------------------

const cmakeDir = join(buildDir, cuda ? "cmake-cuda" : "cmake-cpu");
const cache = join(cmakeDir, "CMakeCache.txt");
if (existsSync(cache) && !readFileSync(cache, "utf8").includes(`CMAKE_GENERATOR:INTERNAL=${generator}\n`)) {
    rmSync(cmakeDir, { recursive: true, force: true });
}
mkdirSync(cmakeDir, { recursive: true });
const nice = hasCommand("nice") ? ["nice", "-n", "10"] : [];
const patchTag = createHash("sha256").update(manifest.patches.map((p) => readFileSync(join(patchesDir, p.file), "utf8")).join("")).digest("hex").slice(0, 8);
const version = `${JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version} (llama.cpp ${tag} + ${manifest.patches.length} patches ${patchTag}${cuda ? `, cuda ${cudaStatic ? "static" : "shared"} runtime` : ""})`;

run(nice[0] ?? "cmake", [...nice.slice(1), ...(nice.length ? ["cmake"] : []),
    "-S", nativeDir, "-B", cmakeDir, "-G", generator, ...cmakeFlags,
    `-DLLAMA_CPP_DIR=${srcDir}`, `-DNODE_INCLUDE_DIR=${nodeInclude}`, `-DNODE_ADDON_API_DIR=${addonApiDir}`,
    `-DOUTPUT_DIR=${outDir}`, `-DENGINE_VERSION=${version}`], { stdio: ["ignore", "ignore", "inherit"] });
run(nice[0] ?? "cmake", [...nice.slice(1), ...(nice.length ? ["cmake"] : []),
    "--build", cmakeDir, "--target", "lora_studio_engine", "--parallel", JOBS]);

if (!existsSync(outFile)) fail(`the build finished without producing ${relative(root, outFile)}`);
const seconds = Math.round((Date.now() - started) / 100) / 10;
const tmp = `${stampFile}.tmp-${process.pid}`;
writeFileSync(tmp, JSON.stringify({ hash: digest, version, builtAt: new Date().toISOString(), seconds, cuda }, null, 4) + "\n");
renameSync(tmp, stampFile);
console.log(`build-native: built ${relative(root, outFile)} in ${seconds} s (${generator}, ${JOBS} jobs${cuda ? ", CUDA" : ""})`);
