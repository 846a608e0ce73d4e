// Builds the installable package: lora-studio-<version>-linux-x64.vsix in the repository root.
//
// 1. Bundles the JS (scripts/build.mjs) and builds the CPU engine (scripts/build-native.mjs; cached, so a second run
//    only checks its stamp).
// 2. Runs `vsce package --target linux-x64`. vsce adds the production dependencies from node_modules and
//    .vscodeignore (an allowlist) keeps what the bundles load at run time: the engine addon, node-llama-cpp (external to
//    the bundles: ESM-only and native) with its dependencies, and its linux-x64 prebuilt. No tests, sources or maps.
//
// `--skip-build` packages the tree as it is (npm test has built it); `--out FILE` writes the package elsewhere.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const TARGET = "linux-x64";
const { name, version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const outArg = process.argv.indexOf("--out");
const outFile = outArg > 0 && process.argv[outArg + 1] ? resolve(process.argv[outArg + 1]) : join(root, `${name}-${version}-${TARGET}.vsix`);

function run(cmd, args) {
    const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
    if (r.error) fail(`cannot run ${cmd}: ${r.error.message}`);
    if (r.status !== 0) fail(`\`${cmd} ${args.join(" ")}\` failed with exit code ${r.status}`);
}

function fail(message) {
    console.error(`package: ${message}`);
    process.exit(1);
}

if (process.platform !== "linux" || process.arch !== "x64") {
    fail(`packages are built for ${TARGET} only (this is ${process.platform}-${process.arch}); `
        + "on other platforms install from source: npm install, node scripts/build-native.mjs, node scripts/build.mjs");
}

if (!process.argv.includes("--skip-build")) {
    run(process.execPath, [join(root, "scripts", "build.mjs")]);
    run(process.execPath, [join(root, "scripts", "build-native.mjs")]);
}
for (const required of [
    join("dist", "extension.js"),
    join("dist", "sidecar.mjs"),
    join("sidecar", "native", "build", "Release", "lora_studio_engine.node"),
    join("node_modules", "@node-llama-cpp", TARGET, "bins", TARGET),
]) {
    if (!existsSync(join(root, required))) fail(`${required} is missing; run npm install and node scripts/build.mjs first`);
}

const vsce = join(root, "node_modules", "@vscode", "vsce", "vsce");
// The extension is not published: package.json has no repository, so README links stay relative (docs/ ships).
run(process.execPath, [vsce, "package", "--target", TARGET, "--out", outFile, "--allow-missing-repository", "--no-rewrite-relative-links"]);
console.log(`package: ${outFile}`);
