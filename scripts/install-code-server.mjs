// Installs code-server (VS Code server + web workbench) into .vscode-test/code-server/ so the E2E tests
// can drive a real VS Code with Playwright and Debian's Chromium, offline except for the npm registry.
// See docs in README "Testing". Run by `npm test`; a stamp file makes a second run a no-op.
//
// code-server 4.100.3 is VS Code 1.100.3 and the last line that runs on Node 20.
// The one thing that would reach past the npm registry is @vscode/ripgrep's postinstall, which downloads
// ripgrep from GitHub unless it finds its download cache in $TMPDIR; we build that cache from the
// system's `rg` in a private temp dir.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const CODE_SERVER_VERSION = "4.100.3";
// Pinned by code-server 4.100.3's dependency tree; the cache file name must match exactly.
const RIPGREP_PACKAGE_VERSION = "1.15.11";
const RIPGREP_RELEASE = "v13.0.0-10";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const installDir = join(root, ".vscode-test", "code-server");
const stampPath = join(installDir, ".installed.json");
const entryPath = join(installDir, "node_modules", "code-server", "out", "node", "entry.js");

// Native modules are compiled against this Node's ABI, so a different Node means a reinstall.
const wantedStamp = { codeServer: CODE_SERVER_VERSION, nodeAbi: process.versions.modules, arch: arch() };

function fail(message) {
    console.error(`install-code-server: ${message}`);
    process.exit(1);
}

function stampMatches() {
    if (!existsSync(stampPath) || !existsSync(entryPath)) return false;
    try {
        const stamp = JSON.parse(readFileSync(stampPath, "utf8"));
        return Object.entries(wantedStamp).every(([k, v]) => stamp[k] === v);
    } catch {
        return false;
    }
}

/** Debian packages code-server's native modules, the browser and ripgrep need; listed in .ci/run too. */
const REQUIRED_APT_PACKAGES = ["libkrb5-dev", "libxkbfile-dev", "libsecret-1-dev", "libx11-dev", "pkg-config", "chromium", "ripgrep", "g++", "make", "python3"];

function checkSystemPackages() {
    if (platform() !== "linux") fail(`E2E tests need Linux (code-server native modules + Debian chromium); this is ${platform()}.`);
    const hasDpkg = spawnSync("dpkg-query", ["--version"], { stdio: "ignore" }).status === 0;
    if (!hasDpkg) {
        console.warn("install-code-server: no dpkg-query; assuming the build packages listed in .ci/run are installed.");
        return;
    }
    const missing = REQUIRED_APT_PACKAGES.filter((pkg) => {
        const r = spawnSync("dpkg-query", ["-W", "-f=${Status}", pkg], { encoding: "utf8" });
        return r.status !== 0 || !r.stdout.includes("install ok installed");
    });
    if (missing.length > 0) {
        fail(`missing Debian packages: ${missing.join(" ")}\n  Install them with: sudo apt-get install -y ${missing.join(" ")}`);
    }
}

function ripgrepTarget() {
    if (arch() === "x64") return "x86_64-unknown-linux-musl";
    if (arch() === "arm64") return "aarch64-unknown-linux-musl";
    fail(`no ripgrep cache recipe for architecture ${arch()}; only x64 and arm64 are supported.`);
}

/** Writes @vscode/ripgrep's download cache (a tar.gz holding `rg`) into a fresh temp dir and returns that dir. */
function makeRipgrepCache() {
    const rg = ["/usr/bin/rg", "/usr/local/bin/rg"].find((p) => existsSync(p));
    if (!rg) fail("ripgrep binary not found (/usr/bin/rg). Install it with: sudo apt-get install -y ripgrep");
    const tmp = mkdtempSync(join(tmpdir(), "lora-studio-code-server-"));
    const staging = join(tmp, "staging");
    mkdirSync(staging);
    copyFileSync(rg, join(staging, "rg"));
    chmodSync(join(staging, "rg"), 0o755);
    const cacheDir = join(tmp, `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
    mkdirSync(cacheDir);
    const tarball = join(cacheDir, `ripgrep-${RIPGREP_RELEASE}-${ripgrepTarget()}.tar.gz`);
    const r = spawnSync("tar", ["czf", tarball, "-C", staging, "rg"], { stdio: "inherit" });
    if (r.status !== 0) fail(`could not create the ripgrep cache ${tarball}`);
    return tmp;
}

function npmCommand(args) {
    // Under `npm test`, npm tells us which npm CLI runs us; reuse it rather than whatever is on PATH.
    const npmCli = process.env.npm_execpath && process.env.npm_execpath.endsWith(".js") ? process.env.npm_execpath : null;
    const base = npmCli ? [process.execPath, npmCli, ...args] : ["npm", ...args];
    // It compiles argon2, kerberos and node-pty from source; `nice` keeps the machine usable meanwhile.
    const hasNice = spawnSync("nice", ["true"], { stdio: "ignore" }).status === 0;
    return hasNice ? ["nice", "-n", "10", ...base] : base;
}

function install() {
    checkSystemPackages();
    mkdirSync(installDir, { recursive: true });
    rmSync(stampPath, { force: true });
    const pkg = { name: "lora-studio-code-server", private: true, description: "code-server for LoRA Studio's E2E tests (generated by scripts/install-code-server.mjs)", dependencies: { "code-server": CODE_SERVER_VERSION } };
    writeFileSync(join(installDir, "package.json"), JSON.stringify(pkg, null, 4) + "\n");

    const tmp = makeRipgrepCache();
    const env = { ...process.env, TMPDIR: tmp };
    // Settings inherited from an outer `npm test` / `npm ci` (omit, global, prefix…) must not leak into this install.
    for (const key of Object.keys(env)) if (key.toLowerCase().startsWith("npm_config_")) delete env[key];
    Object.assign(env, {
        // node-pty's postinstall runs `npx node-gyp`; an npmrc with yes=false makes it abort.
        npm_config_yes: "true",
        // code-server's postinstall runs as root in CI and needs its lifecycle scripts to keep root.
        npm_config_unsafe_perm: "true",
        npm_config_audit: "false",
        npm_config_fund: "false",
        npm_config_update_notifier: "false"
    });
    // Keep a configured local Node headers dir (this repo's CI sets nodedir) so node-gyp does not download headers.
    if (process.env.npm_config_nodedir) env.npm_config_nodedir = process.env.npm_config_nodedir;

    const [cmd, ...args] = npmCommand(["install", "--no-audit", "--no-fund", "--loglevel=error"]);
    console.log(`install-code-server: installing code-server@${CODE_SERVER_VERSION} into .vscode-test/code-server (compiles native modules; a few minutes)…`);
    const started = Date.now();
    const r = spawnSync(cmd, args, { cwd: installDir, env, stdio: "inherit" });
    rmSync(tmp, { recursive: true, force: true });
    if (r.status !== 0) fail(`\`npm install code-server@${CODE_SERVER_VERSION}\` failed (exit ${r.status}). The Debian packages needed are: ${REQUIRED_APT_PACKAGES.join(" ")}`);
    if (!existsSync(entryPath)) fail(`npm install finished but ${entryPath} is missing`);

    const version = spawnSync(process.execPath, [entryPath, "--version"], { encoding: "utf8" });
    if (version.status !== 0 || !version.stdout.includes(CODE_SERVER_VERSION)) {
        fail(`installed code-server does not start: ${version.stderr || version.stdout}`);
    }
    const tmpStamp = `${stampPath}.tmp`;
    writeFileSync(tmpStamp, JSON.stringify({ ...wantedStamp, installedAt: new Date().toISOString() }, null, 4) + "\n");
    renameSync(tmpStamp, stampPath);
    console.log(`install-code-server: code-server ${CODE_SERVER_VERSION} ready in ${Math.round((Date.now() - started) / 1000)} s`);
}

if (stampMatches()) {
    console.log(`install-code-server: code-server ${CODE_SERVER_VERSION} already installed (.vscode-test/code-server)`);
} else {
    install();
}
