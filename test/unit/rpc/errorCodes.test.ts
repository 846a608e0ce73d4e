// Each sidecar error code means one thing: the client branches on the number (ExportTargetExists → "replace?",
// ModelPullFailed → "resume later", …), so two names sharing a value would send one answer down the other's path.
// Codes are added in separate blocks by separate features; this catches a collision when they meet.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SidecarErrorCode } from "../../../sidecar/src/protocol/sidecar";

test("every SidecarErrorCode has its own value", () => {
    const byValue = new Map<number, string[]>();
    for (const [name, value] of Object.entries(SidecarErrorCode)) byValue.set(value, [...(byValue.get(value) ?? []), name]);
    const shared = [...byValue.entries()].filter(([, names]) => names.length > 1).map(([value, names]) => `${value}: ${names.join(", ")}`);
    assert.deepEqual(shared, []);
    assert.ok(byValue.size >= 5, "the codes were read");
});
