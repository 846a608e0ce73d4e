// Run output confinement (issue 12.9): a run config may only write inside its workspace; the user's own choice on the
// command line or in a dialog is not confined; links inside the workspace that point outside are caught.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveRunOutput, RunOutputOutsideWorkspaceError } from "../../../sidecar/src/params/runOutput";

const base = mkdtempSync(join(tmpdir(), "run-output-"));
after(() => rmSync(base, { recursive: true, force: true }));
const workspace = join(base, "ws");
const outside = join(base, "elsewhere");
mkdirSync(workspace);
mkdirSync(outside);
symlinkSync(outside, join(workspace, "link"));

test("a config's relative or absolute output inside the workspace resolves there", () => {
    assert.equal(resolveRunOutput({ requested: "runs/a", origin: "config", root: workspace }), join(workspace, "runs", "a"));
    assert.equal(resolveRunOutput({ requested: join(workspace, "x"), origin: "config", root: workspace }), join(workspace, "x"));
});

test("a config's output outside the workspace is refused, naming the file, the field and both folders", () => {
    for (const requested of ["../elsewhere/run", outside, "/home/you/.ssh", "link/run"]) {
        assert.throws(
            () => resolveRunOutput({ requested, origin: "config", root: workspace, field: "output", configFile: "facts.lora.json" }),
            (e: unknown) => e instanceof RunOutputOutsideWorkspaceError && e.message.startsWith(`facts.lora.json: "output" is ${JSON.stringify(requested)}`) && e.message.includes("outside the workspace"),
            requested
        );
    }
});

test("the command line and a dialog may choose any folder", () => {
    assert.equal(resolveRunOutput({ requested: outside, origin: "command-line", root: workspace }), outside);
    assert.equal(resolveRunOutput({ requested: "../elsewhere", origin: "dialog", root: workspace }), outside);
});
