// The README's test command. Builds what the tests need (bundles, the native engine, code-server for
// E2E), each step cached so an unchanged tree does not rebuild, then runs every test file with node's
// test runner. `npm test -- unit integration` runs only files whose path contains one of the words.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, utimesSync } from "node:fs";
import { join, dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const filters = process.argv.slice(2).filter((a) => !a.startsWith("-"));

function run(cmd, args, opts = {}) {
    const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", ...opts });
    if (r.status !== 0) {
        console.error(`test: \`${cmd} ${args.join(" ")}\` failed with exit code ${r.status}`);
        process.exit(r.status ?? 1);
    }
}

/**
 * `tsc -b`: one project per process (tsconfig.json's references), each with only its process's types; a type error
 * fails the run. tsc -b skips a project whose own files are older than its out/tsc/<name>.tsbuildinfo, but a project
 * also checks what it imports from other folders (media/ and extension/ import sidecar/src/protocol/…), so a project
 * whose last program holds a newer file gets its build info aged first; tsc then re-checks it (incrementally).
 */
function typecheck() {
    const started = new Date();
    const infoDir = join(root, "out", "tsc");
    const infos = () => (existsSync(infoDir) ? readdirSync(infoDir).filter((n) => n.endsWith(".tsbuildinfo")).map((n) => join(infoDir, n)) : []);
    for (const info of infos()) {
        const built = statSync(info).mtimeMs;
        let stale;
        try {
            stale = JSON.parse(readFileSync(info, "utf8")).fileNames.some((f) => statSync(join(infoDir, f)).mtimeMs > built);
        } catch {
            stale = true; // a deleted file, or build info tsc no longer writes this way
        }
        if (stale) utimesSync(info, 0, 0);
    }
    run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-b"]);
    // tsc leaves a build info whose content did not change (after a tsconfig edit) with its old date, so the next run
    // would re-check again: every project now passed, as of the start.
    for (const info of infos()) utimesSync(info, started, started);
    console.log(`typecheck: ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s`);
}

// Preparation steps, in order. Each script is optional so features can land one at a time.
run(process.execPath, ["scripts/build.mjs"]);
typecheck();
for (const step of ["scripts/build-native.mjs", "scripts/make-fixtures.mjs", "scripts/install-code-server.mjs"]) {
    if (existsSync(join(root, step))) run(process.execPath, [step]);
}

function walk(dir, acc = []) {
    if (!existsSync(dir)) return acc;
    for (const name of readdirSync(dir).sort()) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p, acc);
        else if (p.endsWith(".test.mjs")) acc.push(relative(root, p));
    }
    return acc;
}

const files = walk(join(root, "out", "test")).filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)));
if (files.length === 0) {
    console.error("test: no test files matched");
    process.exit(1);
}
// One file at a time: native tests and the E2E browser each want both cores to themselves.
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", "--test-reporter=spec", ...files], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
