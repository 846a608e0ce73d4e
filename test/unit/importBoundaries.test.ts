// The import boundaries between the processes and the sidecar's floors (issue 15), read from the sources. A bundle
// that pulls in the wrong module still builds (and each process's tsc project follows imports anywhere), so:
//  - sidecar/ (sidecar and CLI) and extension/server/ (language server) never import the vscode API;
//  - the extension host never reaches node-llama-cpp or the native engine, not even through relative imports;
//  - a webview (media/<view>/) imports only its own folder, media/shared/ and sidecar/src/protocol/*Webview.ts;
//  - in sidecar/src, imports point down the floors (FLOORS), except the few upward ones listed in KNOWN_UPWARD.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { repoRoot } from "./support/repoRoot";

/** sidecar/src floors, lowest first; a file's floor is its first folder's (or its own name's, for main.ts/cli.ts). */
const FLOORS: Record<string, number> = {
    protocol: 0,
    datasets: 1, gguf: 1, pipeline: 1, engine: 1, tinyModel: 1, params: 1, adapters: 1, import: 1,
    training: 2, chat: 2, eval: 2, export: 2, models: 2, importAdapter: 2,
    rpc: 3, client: 3,
    cli: 4, "cli.ts": 4, "main.ts": 4
};

/** Upward imports that exist today (issue 15 debt); each must still exist, so a fixed one is removed from here too. */
const KNOWN_UPWARD = [
    "protocol/languageServer.ts -> datasets/types.ts",
    "protocol/languageServer.ts -> pipeline/types.ts",
    "datasets/runConfig.ts -> training/resolveRunConfig.ts",
    "params/cliArgs.ts -> cli/types.ts"
];

interface Import {
    specifier: string;
    /** `import type` / `export type`: erased by the bundler, so never loaded at run time. */
    typeOnly: boolean;
    /** The file a relative specifier resolves to (repo-relative, "/"-separated); undefined for packages. */
    target?: string | undefined;
}

const STATIC = /^\s*(?:import|export)\s+(type\s+)?(?:[\w$*{}\s,]+?\s+from\s+)?["']([^"']+)["']/gm;
const DYNAMIC = /\b(?:import|require)\(\s*["']([^"']+)["']\s*\)/g;

function sourceFiles(dir: string): string[] {
    const out: string[] = [];
    for (const name of readdirSync(join(repoRoot, dir)).sort()) {
        const rel = `${dir}/${name}`;
        if (statSync(join(repoRoot, rel)).isDirectory()) out.push(...sourceFiles(rel));
        else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(rel);
    }
    return out;
}

const cache = new Map<string, Import[]>();
function importsOf(file: string): Import[] {
    let imports = cache.get(file);
    if (imports) return imports;
    // Whole-line comments go first, so a comment that quotes an import does not count as one.
    const text = readFileSync(join(repoRoot, file), "utf8").replace(/^\s*(?:\/\/|\/\*|\*).*$/gm, "");
    const found: Array<[string, boolean]> = [...text.matchAll(STATIC)].map((m) => [m[2]!, m[1] !== undefined]);
    found.push(...[...text.matchAll(DYNAMIC)].map((m): [string, boolean] => [m[1]!, false]));
    imports = found.map(([specifier, typeOnly]) => ({ specifier, typeOnly, target: specifier.startsWith(".") ? resolveRelative(file, specifier) : undefined }));
    cache.set(file, imports);
    return imports;
}

function resolveRelative(from: string, specifier: string): string {
    const base = resolve(repoRoot, dirname(from), specifier);
    const hit = [`${base}.ts`, join(base, "index.ts"), base].find((p) => existsSync(p) && statSync(p).isFile());
    assert.ok(hit, `${from}: cannot resolve "${specifier}"`);
    return relative(repoRoot, hit).split("\\").join("/");
}

test("nothing in sidecar/ or extension/server/ imports the vscode API", () => {
    const offenders = [...sourceFiles("sidecar/src"), ...sourceFiles("extension/server")]
        .filter((f) => importsOf(f).some((i) => i.specifier === "vscode" || i.specifier.startsWith("vscode/")));
    assert.deepEqual(offenders, [], "these run outside VS Code: use vscode-languageserver (server) or plain node (sidecar, CLI)");
});

test("the extension host never reaches node-llama-cpp or the native engine, directly or through relative imports", () => {
    const native = (i: Import): boolean =>
        /^(?:node-llama-cpp|@node-llama-cpp\/)/.test(i.specifier) || i.specifier.endsWith(".node") ||
        (i.target !== undefined && (i.target.startsWith("sidecar/native/") || i.target === "sidecar/src/engine/native.ts"));
    // Walks the run-time imports (type-only ones are erased) and remembers who brought each file in, for the message.
    const via = new Map<string, string | undefined>(sourceFiles("extension/src").map((f) => [f, undefined]));
    const chain = (file: string | undefined): string => (file === undefined ? "" : ` ← ${file}${chain(via.get(file))}`);
    const queue = [...via.keys()];
    const reached = new Set<string>();
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
        for (const i of importsOf(file).filter((x) => !x.typeOnly)) {
            if (native(i)) reached.add(`${i.target ?? i.specifier}${chain(file)}`);
            else if (i.target?.endsWith(".ts") && !via.has(i.target)) {
                via.set(i.target, file);
                queue.push(i.target);
            }
        }
    }
    assert.deepEqual([...reached], [], "the extension host must stay light: native code runs in the sidecar (talk to it over protocol/sidecar.ts)");
});

test("webviews import only their own folder, media/shared/ and sidecar/src/protocol/*Webview.ts", () => {
    const offenders: string[] = [];
    for (const file of sourceFiles("media")) {
        const view = file.split("/").slice(0, 2).join("/");
        for (const i of importsOf(file)) {
            const t = i.target;
            const ok = t !== undefined && (t.startsWith(`${view}/`) || t.startsWith("media/shared/") || /^sidecar\/src\/protocol\/\w+Webview\.ts$/.test(t));
            if (!ok) offenders.push(`${file} -> ${t ?? i.specifier}`);
        }
    }
    assert.deepEqual(offenders, [], "a webview is a browser page: it shares only the webview protocol modules with the extension");
});

test("sidecar/src imports point down the floors (protocol < core < services < rpc, client < cli, main)", () => {
    const floorOf = (file: string): number => {
        const top = file.slice("sidecar/src/".length).split("/")[0]!;
        const floor = FLOORS[top];
        assert.ok(floor !== undefined, `sidecar/src/${top} has no floor in FLOORS: add it`);
        return floor;
    };
    const upward = new Set<string>();
    for (const file of sourceFiles("sidecar/src")) {
        for (const t of importsOf(file).map((i) => i.target)) {
            if (t?.startsWith("sidecar/src/") && t.endsWith(".ts") && floorOf(t) > floorOf(file)) upward.add(`${file.slice(12)} -> ${t.slice(12)}`);
        }
    }
    assert.deepEqual([...upward].filter((e) => !KNOWN_UPWARD.includes(e)), [], "an import must not reach a floor above its own");
    assert.deepEqual(KNOWN_UPWARD.filter((e) => !upward.has(e)), [], "fixed: remove these from KNOWN_UPWARD");
});
