// One line splitter (sidecar/src/datasets/lines.ts): the validator, the language server's buffer and the training
// pipeline number the lines of a file with \n, \r\n and lone \r endings the same way, so a training error's
// file:line is the line the editor underlines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { splitLines, validateJsonl } from "../../../sidecar/src/datasets/index";
import { parseDatasetText } from "../../../sidecar/src/pipeline/examples";
import { LineBuffer } from "../../../extension/server/lineBuffer";

const good = (q: string): string => JSON.stringify({ messages: [{ role: "user", content: q }, { role: "assistant", content: "a" }] });

test("the validator, the line buffer and the training pipeline put the same bad line on the same number", () => {
    const text = [good("one"), good("two"), "{broken", good("four")].join("\r") + "\r\n" + good("five") + "\n{also broken\n";
    assert.deepEqual(splitLines(text).length, 7);
    const validatorLines = validateJsonl(text).diagnostics.filter((d) => d.code === "LS001").map((d) => d.range.start.line + 1);
    const pipelineLines = parseDatasetText(text, "d.jsonl").issues.map((i) => i.source.line);
    assert.deepEqual(validatorLines, [3, 6]);
    assert.deepEqual(pipelineLines, validatorLines);
    const buffer = new LineBuffer(text);
    assert.equal(buffer.line(2), "{broken");
    assert.equal(buffer.line(5), "{also broken");
});
