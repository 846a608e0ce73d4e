// The start-up message about the compute path (issue 6): the real sidecar answers `initialize` with
// capabilities.backend, consistent with its cuda flag, and logs the same sentence; without the engine it has none.
import { test } from "node:test";
import assert from "node:assert/strict";
import { testSupervisor } from "./sidecarHarness";

test("initialize says which backend trains and why, and the sidecar logs it", { timeout: 120_000 }, async () => {
    const { supervisor, log } = testSupervisor();
    try {
        const { capabilities } = await supervisor.start();
        if (!capabilities.engineAvailable) {
            assert.equal(capabilities.backend, undefined, "no engine, no backend claim");
            return;
        }
        const backend = capabilities.backend;
        assert.ok(backend, "capabilities.backend is set when the engine loaded");
        assert.equal(backend.kind, capabilities.cuda ? "cuda" : "cpu");
        assert.match(backend.description, capabilities.cuda ? /^CUDA via / : /^CPU: /);
        assert.ok(log.lines.some((l) => l.endsWith(`training backend: ${backend.description}`)), log.lines.join("\n"));
    } finally {
        await supervisor.stop();
    }
});
