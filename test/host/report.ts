// The result file the in-host harness writes (path in $LORA_STUDIO_HOST_REPORT), read by the Node-side
// E2E tests so a failure shows which in-host test failed and why, not only a non-zero exit code.

export interface HostTestResult {
    suite: string;
    test: string;
    ok: boolean;
    /** The error's message and stack when `ok` is false. */
    error?: string;
}

export interface HostReport {
    suitesRequested: string[];
    results: HostTestResult[];
    passed: number;
    failed: number;
}

/** A readable summary of the failures, for assertion messages. */
export function describeFailures(report: HostReport): string {
    return report.results
        .filter((r) => !r.ok)
        .map((r) => `✗ ${r.suite} › ${r.test}\n${indent(r.error ?? "(no error message)")}`)
        .join("\n");
}

function indent(text: string): string {
    return text.split("\n").map((line) => `    ${line}`).join("\n");
}
