// "Open Config" after a refused run puts the cursor on the failing field, found from the field path the sidecar's
// error carries (never from its message): a property's key, an array entry, a missing field's object.
import { test } from "node:test";
import assert from "node:assert/strict";
import { configFieldOffset } from "../../../extension/src/training/configFieldOffset";
import { RunConfigError, requireRunConfig } from "../../../sidecar/src/training/config";

const text = `{
    "model": "m.gguf",
    "epochs": "many",
    "targetModules": ["attn_q", "attn_zz"],
}`;

test("the field path of each problem, as the run-config resolution reports it, finds the field in the text", () => {
    let problems: RunConfigError["problems"] = [];
    try {
        requireRunConfig({ value: JSON.parse(text.replace(",\n}", "\n}")) }, "x.lora.json");
    } catch (error) {
        problems = (error as RunConfigError).problems;
    }
    const where = Object.fromEntries(problems.map((p) => [p.code + ":" + JSON.stringify(p.path), configFieldOffset(text, p.path)]));
    assert.deepEqual(where, {
        'RC102:["data"]': 0,
        'RC103:["epochs"]': text.indexOf('"epochs"'),
        'RC104:["targetModules",1]': text.indexOf('"attn_zz"')
    });
    assert.equal(configFieldOffset("", ["epochs"]), undefined, "nothing to point at in an empty file");
});
