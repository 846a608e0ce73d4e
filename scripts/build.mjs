// One esbuild script, one entry per process (extension host, language server, sidecar, CLI,
// each webview), plus the test and bench files. Entries whose source does not exist yet are skipped,
// so features can land one at a time.
import { build } from "esbuild";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, relative, dirname, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { editorSchema } from "./editorSchema.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const watch = process.argv.includes("--watch");

// Native and ESM-only runtime dependencies stay external: they are loaded from node_modules at run time.
const nodeExternals = ["vscode", "node-llama-cpp", "@node-llama-cpp/*", "playwright-core", "@vscode/test-electron", "*.node"];

/** Each process has its own platform and format: VS Code loads CommonJS; the sidecar and CLI are ESM because node-llama-cpp is. */
const processes = [
    { in: "extension/src/extension.ts", out: "dist/extension.js", platform: "node", format: "cjs" },
    { in: "extension/server/server.ts", out: "dist/server.js", platform: "node", format: "cjs" },
    { in: "sidecar/src/main.ts", out: "dist/sidecar.mjs", platform: "node", format: "esm" },
    { in: "sidecar/src/cli.ts", out: "dist/cli.mjs", platform: "node", format: "esm" },
    // In-host tests run inside the VS Code extension host (test-electron or code-server), so CommonJS.
    { in: "test/host/index.ts", out: "out/test/host/index.js", platform: "node", format: "cjs" },
    // The sidecar with test-only requests (debug/block…), which the production protocol does not have.
    { in: "test/integration/hookedSidecar.ts", out: "out/test/integration/hookedSidecar.mjs", platform: "node", format: "esm" }
];

function walk(dir, predicate, acc = []) {
    if (!existsSync(dir)) return acc;
    for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p, predicate, acc);
        else if (predicate(p)) acc.push(p);
    }
    return acc;
}

// Webviews: media/<view>/main.ts → dist/media/<view>.js (browser, IIFE).
for (const dir of existsSync(join(root, "media")) ? readdirSync(join(root, "media")) : []) {
    const entry = join("media", dir, "main.ts");
    if (existsSync(join(root, entry))) processes.push({ in: entry, out: `dist/media/${dir}.js`, platform: "browser", format: "iife" });
}

// Node tests and benchmarks: every *.test.ts under test/ (except in-host ones) and every bench/*.ts.
const nodeFiles = [
    ...walk(join(root, "test"), (p) => p.endsWith(".test.ts") && !p.includes(`${join("test", "host")}`)),
    ...walk(join(root, "bench"), (p) => p.endsWith(".ts") && !p.includes(".d.ts"))
];
for (const abs of nodeFiles) {
    const rel = relative(root, abs);
    processes.push({ in: rel, out: join("out", rel.replace(/\.ts$/, ".mjs")), platform: "node", format: "esm" });
}

const common = {
    bundle: true,
    sourcemap: "linked",
    target: "node20",
    logLevel: "warning",
    absWorkingDir: root
};

const present = processes.filter((p) => existsSync(join(root, p.in)));
const started = Date.now();
await Promise.all(present.map((p) => build({
    ...common,
    entryPoints: [p.in],
    outfile: p.out,
    platform: p.platform,
    format: p.format,
    target: p.platform === "browser" ? "es2022" : "node20",
    external: p.platform === "node" ? nodeExternals : [],
    // ESM bundles that pull in CommonJS dependencies need a real `require`.
    banner: p.format === "esm"
        ? { js: "import { createRequire as __lsCreateRequire } from 'node:module'; const require = __lsCreateRequire(import.meta.url);" }
        : undefined,
    minify: p.platform === "browser" && !watch
})));
// VS Code's JSON support gets the run-config schema without constraints (see editorSchema.mjs). Temp + rename.
const editorSchemaPath = join(root, "dist", "schemas", "run-config.editor.schema.json");
mkdirSync(dirname(editorSchemaPath), { recursive: true });
const fullSchema = JSON.parse(readFileSync(join(root, "schemas", "run-config.schema.json"), "utf8"));
writeFileSync(`${editorSchemaPath}.tmp`, `${JSON.stringify(editorSchema(fullSchema), null, 4)}\n`);
renameSync(`${editorSchemaPath}.tmp`, editorSchemaPath);

console.log(`build: ${present.length} entries in ${Date.now() - started} ms (${present.map((p) => basename(p.out)).join(", ")})`);
