// A minimal test harness for code that runs inside the VS Code extension host. Suites register themselves
// on import; `runSuites` runs them one test at a time and never throws, so the caller can write a report
// before deciding the exit code. Kept tiny on purpose: no mocha, no globals, same code under code-server
// and under @vscode/test-electron.
import type { HostReport, HostTestResult } from "./report";

/** Per-test upper bound; tests wait on events, this only turns a hang into a readable failure. */
const DEFAULT_TEST_TIMEOUT_MS = 30_000;

type TestBody = () => Promise<void> | void;

interface HostTest {
    name: string;
    body: TestBody;
    timeoutMs: number;
}

interface HostSuite {
    name: string;
    tests: HostTest[];
    /** Runs only when asked for by name, e.g. the suite that proves the harness can fail. */
    onlyWhenSelected: boolean;
}

export interface SuiteOptions {
    onlyWhenSelected?: boolean;
}

export type DefineTest = (name: string, body: TestBody, options?: { timeoutMs?: number }) => void;

const registry: HostSuite[] = [];

export function suite(name: string, define: (test: DefineTest) => void, options: SuiteOptions = {}): void {
    if (registry.some((s) => s.name === name)) throw new Error(`host suite "${name}" is registered twice`);
    const s: HostSuite = { name, tests: [], onlyWhenSelected: options.onlyWhenSelected ?? false };
    define((testName, body, testOptions) => {
        s.tests.push({ name: testName, body, timeoutMs: testOptions?.timeoutMs ?? DEFAULT_TEST_TIMEOUT_MS });
    });
    registry.push(s);
}

export function registeredSuites(): string[] {
    return registry.map((s) => s.name);
}

/**
 * Runs the selected suites (all but the only-when-selected ones when `selection` is empty).
 * An unknown suite name is itself a failure, so a typo cannot make a run pass vacuously.
 */
export async function runSuites(selection: string[], log: (line: string) => void): Promise<HostReport> {
    const results: HostTestResult[] = [];
    const unknown = selection.filter((name) => !registry.some((s) => s.name === name));
    for (const name of unknown) {
        results.push({ suite: name, test: "(suite lookup)", ok: false, error: `no host suite named "${name}"; known: ${registeredSuites().join(", ")}` });
    }
    const chosen = selection.length > 0
        ? registry.filter((s) => selection.includes(s.name))
        : registry.filter((s) => !s.onlyWhenSelected);
    for (const s of chosen) {
        log(`${s.name}`);
        for (const t of s.tests) {
            const error = await runOne(t);
            results.push({ suite: s.name, test: t.name, ok: error === undefined, ...(error === undefined ? {} : { error }) });
            log(`  ${error === undefined ? "✓" : "✗"} ${t.name}${error === undefined ? "" : `\n${error}`}`);
        }
    }
    const failed = results.filter((r) => !r.ok).length;
    return { suitesRequested: selection, results, passed: results.length - failed, failed };
}

async function runOne(t: HostTest): Promise<string | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
        await Promise.race([
            Promise.resolve().then(t.body),
            new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new Error(`timed out after ${t.timeoutMs} ms`)), t.timeoutMs);
            })
        ]);
        return undefined;
    } catch (err) {
        return err instanceof Error ? (err.stack ?? err.message) : String(err);
    } finally {
        clearTimeout(timer);
    }
}
