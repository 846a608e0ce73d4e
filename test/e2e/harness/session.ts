// One real VS Code for one E2E test: code-server on a free port with private temp dirs, Debian Chromium
// driven by Playwright, and this repository loaded as the extension under development (no packaging), or a
// packaged .vsix installed into the session's empty extensions dir.
// Optionally runs the in-host test suites (test/host) through extensionTestsPath and reports their exit
// code the way @vscode/test-web does, through window.codeAutomationExit.
//
// Remote-SSH split (issue 16.3): every E2E session is the same split as a Remote-SSH window. The extension host, the
// sidecar and the engine run in code-server's server process (the "remote" side, where package.json's
// `"extensionKind": ["workspace"]` puts the extension), while the workbench and every webview run in Chromium, a
// separate process that reaches the server only over code-server's own connection. A webview that fetched a port or
// a localhost URL of the extension host, rather than using postMessage, would therefore fail these tests as it would
// fail over Remote-SSH; test/unit/extension/remoteSsh.test.ts checks the sources for such code.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { CodeServerProcess, codeServerEntry } from "./codeServerProcess";
import { chromiumPath, hostTestsEntry, repoRoot, resultsDir } from "./paths";
import type { HostReport } from "../../host/report";

/** Upper bounds for events; a healthy session needs a few seconds for each. */
const WORKBENCH_READY_TIMEOUT_MS = 60_000;
const HOST_TESTS_TIMEOUT_MS = 120_000;
/** `--install-extension` unpacks a ~16 MB VSIX; a few seconds here. */
const VSIX_INSTALL_TIMEOUT_MS = 120_000;

/** LORA_STUDIO_E2E_DEBUG=1 prints each startup phase and forwards the workbench console to stderr. */
const debugEnabled = Boolean(process.env.LORA_STUDIO_E2E_DEBUG);
const debugStart = Date.now();
function debug(message: string): void {
    if (debugEnabled) console.error(`[e2e +${((Date.now() - debugStart) / 1000).toFixed(1)}s] ${message}`);
}

const CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"
];

/** Settings that keep the workbench quiet and deterministic: no welcome page, tips, updates or telemetry. */
const BASE_SETTINGS: Record<string, unknown> = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "extensions.ignoreRecommendations": true,
    "git.enabled": false,
    "chat.commandCenter.enabled": false,
    "editor.accessibilitySupport": "off"
};

export interface SessionOptions {
    /** Names the screenshot folder (test-results/e2e/<name>/) and the temp dirs. */
    name: string;
    /** Files to create in the fresh temp workspace, by relative path. */
    workspaceFiles?: Record<string, string>;
    /** A workspace file (relative path) the workbench opens at startup; `start` waits for its editor. */
    openFile?: string;
    /** User settings, on top of BASE_SETTINGS. */
    settings?: Record<string, unknown>;
    /** Run these in-host suites (test/host) via extensionTestsPath; their result comes from `hostTestsResult()`. */
    hostSuites?: string[];
    /** Extra environment for the server and so for the extension host (and the processes it starts). */
    env?: Record<string, string>;
    /** Keep Workspace Trust enabled (default: disabled, as for a trusted folder). */
    workspaceTrust?: boolean;
    /**
     * A .vsix to install into the session's empty extensions dir (`code-server --install-extension`) and run instead of
     * this repository as the extension under development: the package as a user installs it.
     */
    installedVsix?: string;
}

export interface HostTestsResult {
    exitCode: number;
    /** The in-host harness's report; undefined if the host died before writing it. */
    report: HostReport | undefined;
}

export class CodeServerSession {
    private hostExit: Promise<number> | undefined;
    private disposed = false;

    private constructor(
        readonly options: SessionOptions,
        readonly tempRoot: string,
        readonly workspace: string,
        private readonly server: CodeServerProcess,
        private readonly browser: Browser,
        readonly page: Page,
        private readonly hostReportPath: string
    ) {}

    static async start(options: SessionOptions): Promise<CodeServerSession> {
        removeOldScreenshots(options.name);
        const tempRoot = mkdtempSync(join(tmpdir(), `lora-studio-e2e-${options.name}-`));
        const dir = (name: string) => {
            const p = join(tempRoot, name);
            mkdirSync(p, { recursive: true });
            return p;
        };
        const workspace = dir("workspace");
        const userDataDir = dir("user-data");
        for (const [rel, text] of Object.entries(options.workspaceFiles ?? {})) {
            mkdirSync(join(workspace, rel, ".."), { recursive: true });
            writeFileSync(join(workspace, rel), text);
        }
        mkdirSync(join(userDataDir, "User"), { recursive: true });
        writeFileSync(join(userDataDir, "User", "settings.json"), JSON.stringify({ ...BASE_SETTINGS, ...options.settings }, null, 4));
        if (options.hostSuites && !existsSync(hostTestsEntry)) {
            throw new Error(`${hostTestsEntry} is missing; run \`npm run build\` first.`);
        }
        const hostReportPath = join(tempRoot, "host-report.json");

        // Private XDG dirs for server and browser alike, so nothing is written into $HOME.
        const xdg = { XDG_CONFIG_HOME: dir("xdg-config"), XDG_DATA_HOME: dir("xdg-data"), XDG_CACHE_HOME: dir("xdg-cache") };
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            ...xdg,
            // Read by test/host/index.ts inside the extension host.
            LORA_STUDIO_HOST_SUITES: (options.hostSuites ?? []).join(","),
            LORA_STUDIO_HOST_REPORT: hostReportPath,
            // No extension gallery (code-server defaults to open-vsx.org): the tests must not depend on the network.
            EXTENSIONS_GALLERY: "{}",
            ...options.env
        };
        // node --test marks its children; the extension host is not a test file.
        delete env.NODE_TEST_CONTEXT;

        const extensionsDir = dir("extensions");
        if (options.installedVsix) {
            try {
                installVsix(options.installedVsix, extensionsDir, userDataDir, env);
            } catch (err) {
                rmSync(tempRoot, { recursive: true, force: true });
                throw err;
            }
        }

        debug(`${options.name}: starting code-server`);
        let server: CodeServerProcess | undefined;
        let browser: Browser | undefined;
        let page: Page | undefined;
        try {
            server = await CodeServerProcess.start({
                workspace, userDataDir, extensionsDir, env, workspaceTrust: options.workspaceTrust ?? false
            });
            debug(`${options.name}: code-server listening on ${server.url.host}; launching chromium`);
            browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS, env: { ...process.env, ...xdg } });
            page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
            if (debugEnabled) page.on("console", (m) => debug(`console.${m.type()}: ${m.text().slice(0, 500)}`));
            debug(`${options.name}: chromium up; loading the workbench`);
            const session = new CodeServerSession(options, tempRoot, workspace, server, browser, page, hostReportPath);
            await session.open();
            return session;
        } catch (err) {
            if (page) {
                mkdirSync(screenshotDir(options.name), { recursive: true });
                await page.screenshot({ path: join(screenshotDir(options.name), "startup-failure.png") }).catch(() => undefined);
            }
            await browser?.close().catch(() => undefined);
            const output = server?.outputTail;
            await server?.stop();
            rmSync(tempRoot, { recursive: true, force: true });
            if (err instanceof Error && output) err.message += `\ncode-server output:\n${output}`;
            throw err;
        }
    }

    /** vscode-remote URI of a path on the server (this machine), as the workbench payload wants it. */
    private remoteUri(path: string): string {
        return `vscode-remote://${this.server.url.host}${path}`;
    }

    private async open(): Promise<void> {
        const payload: [string, string][] = [
            ...(this.options.installedVsix ? [] : [["extensionDevelopmentPath", this.remoteUri(repoRoot)] as [string, string]]),
            ["skipWelcome", "true"],
            ["skipReleaseNotes", "true"]
        ];
        if (this.options.openFile) payload.push(["openFile", this.remoteUri(join(this.workspace, this.options.openFile))]);
        if (this.options.hostSuites) {
            payload.push(["extensionTestsPath", this.remoteUri(hostTestsEntry)]);
            let resolveExit!: (code: number) => void;
            this.hostExit = new Promise<number>((resolve) => { resolveExit = resolve; });
            // Must be in place before the workbench loads: it looks the function up when the host exits.
            await this.page.exposeFunction("codeAutomationExit", (code: number) => resolveExit(code));
        }
        const url = new URL(this.server.url);
        url.searchParams.set("folder", this.workspace);
        url.searchParams.set("payload", JSON.stringify(payload));
        await this.page.goto(url.toString());
        await this.page.locator(".monaco-workbench .part.statusbar").waitFor({ timeout: WORKBENCH_READY_TIMEOUT_MS });
        debug(`${this.options.name}: workbench shown`);
        if (this.options.openFile) {
            const name = basename(this.options.openFile);
            await this.page.locator(`.part.editor .tab.active[aria-label*="${name}"]`).waitFor({ timeout: WORKBENCH_READY_TIMEOUT_MS });
            await this.page.locator(".part.editor .monaco-editor .view-lines").first().waitFor({ timeout: WORKBENCH_READY_TIMEOUT_MS });
            debug(`${this.options.name}: ${name} open`);
        }
    }

    /** Waits for the in-host suites to finish; resolves with the exit code the extension host reported. */
    async hostTestsResult(): Promise<HostTestsResult> {
        if (!this.hostExit) throw new Error("this session was started without hostSuites");
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`in-host tests did not finish within ${HOST_TESTS_TIMEOUT_MS} ms.\ncode-server output:\n${this.server.outputTail}`)), HOST_TESTS_TIMEOUT_MS);
        });
        try {
            const exitCode = await Promise.race([this.hostExit, timeout]);
            const report = existsSync(this.hostReportPath) ? JSON.parse(readFileSync(this.hostReportPath, "utf8")) as HostReport : undefined;
            return { exitCode, report };
        } finally {
            clearTimeout(timer);
        }
    }

    /** Saves test-results/e2e/<session>/<label>.png and returns its path. */
    async screenshot(label: string): Promise<string> {
        const dir = screenshotDir(this.options.name);
        mkdirSync(dir, { recursive: true });
        const path = join(dir, `${label}.png`);
        await this.page.screenshot({ path });
        return path;
    }

    get serverOutput(): string {
        return this.server.outputTail;
    }

    /**
     * Closes the browser, stops code-server and everything it started, and removes the temp dirs.
     * Pass the test's error to keep a screenshot of the failure. Safe to call twice.
     */
    async dispose(failure?: unknown): Promise<void> {
        if (this.disposed) return;
        this.disposed = true;
        if (failure !== undefined) await this.screenshot("failure").catch(() => undefined);
        await this.browser.close().catch(() => undefined);
        await this.server.stop();
        rmSync(this.tempRoot, { recursive: true, force: true });
    }
}

/** `code-server --install-extension VSIX` into a private extensions dir; throws with code-server's output if it fails. */
function installVsix(vsix: string, extensionsDir: string, userDataDir: string, env: NodeJS.ProcessEnv): void {
    const r = spawnSync(process.execPath, [codeServerEntry, "--extensions-dir", extensionsDir, "--user-data-dir", userDataDir, "--install-extension", vsix], {
        env, encoding: "utf8", timeout: VSIX_INSTALL_TIMEOUT_MS
    });
    if (r.status !== 0) throw new Error(`code-server --install-extension ${vsix} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`);
    debug(`installed ${basename(vsix)}: ${r.stdout.trim()}`);
}

/** test-results/e2e/<session>/, emptied when the session starts so an earlier run's pictures are not mistaken for this run's. */
function screenshotDir(sessionName: string): string {
    return join(resultsDir, sessionName);
}

function removeOldScreenshots(sessionName: string): void {
    rmSync(screenshotDir(sessionName), { recursive: true, force: true });
}

/** Starts a session, runs `body`, and always cleans up, with a failure screenshot when `body` throws. */
export async function withSession<T>(options: SessionOptions, body: (session: CodeServerSession) => Promise<T>): Promise<T> {
    const session = await CodeServerSession.start(options);
    try {
        const result = await body(session);
        await session.dispose();
        return result;
    } catch (err) {
        await session.dispose(err);
        throw err;
    }
}
