// Proves the harness can fail: the E2E smoke test runs this suite on its own and expects a non-zero exit
// code and a report naming this test. Never runs unless selected by name.
import * as assert from "node:assert/strict";
import { suite } from "../harness";

suite("deliberately-failing", (test) => {
    test("fails on purpose", () => {
        assert.equal(1 + 1, 3, "this assertion fails on purpose");
    });
}, { onlyWhenSelected: true });
