// Remote-SSH (issue 16.3): the extension runs where the workspace is ("extensionKind": ["workspace"]), so its sidecar
// and engine run beside the data and the GPU, while the webviews run in the local UI. That split works only if the
// two talk through postMessage alone: a port opened on the remote host, or a URL to localhost, would point at the
// wrong machine from the browser's side. This test reads every source of the extension host (extension/src), the
// language server (extension/server), the webviews (media/) and the built webview bundles (dist/media/) and fails on
// anything that opens a port or addresses localhost. The code-server E2E (test/e2e/harness) runs the same split.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { repoRoot } from "../support/repoRoot";

/** What opens a port or reaches a local server; each is named in the failure. */
const PATTERNS: Array<{ name: string; re: RegExp }> = [
    { name: "createServer (net/http/https/http2)", re: /\bcreateServer\s*\(/ },
    { name: "listen( (a server socket)", re: /\.listen\s*\(/ },
    { name: "localhost", re: /localhost/i },
    { name: "a loopback or any-address IP", re: /\b127\.0\.0\.1\b|\b0\.0\.0\.0\b|\[::1?\]/ },
    { name: "a WebSocket URL or client", re: /\bwss?:\/\/|\bnew\s+WebSocket\s*\(/ },
    { name: "fetch/XHR/EventSource to an http(s) URL", re: /\bfetch\s*\(\s*["'`]https?:|\bXMLHttpRequest\b|\bnew\s+EventSource\s*\(/ },
    { name: "an http(s) URL", re: /\bhttps?:\/\/[^\s"'`)]+/ }
];

/** Matches that are not network use, each with why. Keyed by repo-relative file and the matched text. */
const ALLOWED: Array<{ file: RegExp; text: string; why: string }> = [
    { file: /^(media\/(progress\/lineChart|preview\/charts)\.ts|dist\/media\/(progress|preview)\.js)$/, text: "http://www.w3.org/2000/svg", why: "the SVG XML namespace (createElementNS), never fetched" },
    { file: /^extension\/server\/datasetServer\.ts$/, text: ".listen(", why: "the language server's JSON-RPC connection over IPC with the extension host, not a socket" }
];

const SCANNED = [/\.(ts|js|mjs|cjs|html|css)$/];

function files(dir: string, acc: string[] = []): string[] {
    if (!existsSync(dir)) return acc;
    for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) files(path, acc);
        else if (SCANNED.some((re) => re.test(name))) acc.push(path);
    }
    return acc;
}

interface Finding {
    file: string;
    line: number;
    pattern: string;
    text: string;
}

/** Every match in `paths` (relative to `root` in the result) that ALLOWED does not excuse. */
function findNetworkUse(root: string, paths: readonly string[]): Finding[] {
    const findings: Finding[] = [];
    for (const path of paths) {
        const file = relative(root, path).split("\\").join("/");
        readFileSync(path, "utf8").split("\n").forEach((lineText, index) => {
            for (const { name, re } of PATTERNS) {
                const global = new RegExp(re.source, re.flags.includes("g") ? re.flags : `${re.flags}g`);
                for (const m of lineText.matchAll(global)) {
                    const allowed = ALLOWED.some((a) => a.file.test(file) && m[0] === a.text);
                    if (!allowed) findings.push({ file, line: index + 1, pattern: name, text: m[0] });
                }
            }
        });
    }
    return findings;
}

const root = repoRoot;

test("package.json declares the extension a workspace extension (it runs on the Remote-SSH host)", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { extensionKind?: unknown };
    assert.deepEqual(pkg.extensionKind, ["workspace"]);
});

test("no extension, language-server or webview code opens a port or addresses localhost", () => {
    const bundles = join(root, "dist", "media");
    assert.ok(existsSync(bundles), "dist/media/ is built by scripts/build.mjs before the tests run");
    const scanned = [
        ...files(join(root, "extension", "src")),
        ...files(join(root, "extension", "server")),
        ...files(join(root, "media")),
        ...files(bundles)
    ];
    assert.ok(scanned.some((f) => f.endsWith(join("media", "chat.js"))), "the webview bundles are among the scanned files");
    const findings = findNetworkUse(root, scanned);
    assert.deepEqual(findings, [], findings.map((f) => `${f.file}:${f.line}: ${f.pattern}: ${f.text}`).join("\n"));
});

test("every webview's CSP allows nothing remote: default-src 'none', no connect-src", () => {
    const shell = readFileSync(join(root, "extension", "src", "webview", "shell.ts"), "utf8");
    assert.match(shell, /"default-src 'none'"/);
    assert.doesNotMatch(shell, /connect-src/);
});

test("the scan catches each kind of planted line, and the allowance is only for its own file", () => {
    const dir = mkdtempSync(join(tmpdir(), "remote-ssh-scan-"));
    try {
        const planted = [
            "import * as net from 'node:net'; net.createServer(() => {});",
            "server.listen(8080);",
            "const url = 'http://LOCALHOST:3000/api';",
            "fetch(`http://127.0.0.1:${port}`);",
            "const ws = new WebSocket('ws://example.test');",
            "fetch('https://example.test/data');"
        ];
        planted.forEach((line, i) => writeFileSync(join(dir, `planted${i}.ts`), `// harmless\n${line}\n`));
        // The SVG namespace is excused in the chart sources only, not anywhere.
        writeFileSync(join(dir, "svg.ts"), "const SVG = \"http://www.w3.org/2000/svg\";\n");
        const findings = findNetworkUse(dir, readdirSync(dir).map((n) => join(dir, n)));
        for (let i = 0; i < planted.length; i++) assert.ok(findings.some((f) => f.file === `planted${i}.ts` && f.line === 2), `planted${i}.ts: ${planted[i]}`);
        assert.ok(findings.some((f) => f.file === "svg.ts"));
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});
