// The built CLI refuses out-of-range numbers before it loads anything (issue 12.2): `chat --max-tokens 0`, -1 and 1e9
// hung at full CPU with no output; now each exits 2 at once with the flag and the range. No model is needed: the
// check runs first, so the paths below need not exist.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../support/repoRoot";

const cli = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, "bin", "lora-studio.mjs"), ...args], { encoding: "utf8", timeout: 60_000 });

const cases: Array<[string[], RegExp]> = [
    [["chat", "--model", "m.gguf", "--prompt", "hi", "--max-tokens", "0"], /--max-tokens must be an integer from 1 to 1024 \(the context size\), got 0/],
    [["chat", "--model", "m.gguf", "--prompt", "hi", "--max-tokens", "-1"], /--max-tokens must be an integer from 1 to 1024 \(the context size\), got -1/],
    [["chat", "--model", "m.gguf", "--prompt", "hi", "--max-tokens", "1e9"], /--max-tokens must be an integer from 1 to 1024 \(the context size\), got 1000000000/],
    [["chat", "--model", "m.gguf", "--context-size", "4096", "--max-tokens", "5000"], /--max-tokens must be an integer from 1 to 4096 \(the context size\), got 5000/],
    [["chat", "--model", "m.gguf", "--threads", "100000"], /--threads must be an integer from 0 to \d+ \(this machine's logical CPUs\), got 100000/],
    [["chat", "--model", "m.gguf", "--temperature", "abc"], /--temperature must be a number from 0 to 10, got "abc"/],
    [["eval", "--model", "m", "--adapter", "a", "--data", "d", "--max-tokens", "0"], /--max-tokens must be an integer from 1 to/],
    [["eval", "--model", "m", "--adapter", "a", "--data", "d", "--limit", "2.5"], /--limit must be an integer from 1 to 10000000, got 2.5/],
    [["export", "--model", "m", "--adapter", "a", "--out", "o", "--format", "zip"], /--format must be one of gguf-lora, merged, ollama, peft, got "zip"/],
    [["validate", "x.jsonl", "--max-diagnostics", "-3"], /--max-diagnostics must be an integer from 1 to 1000000, got -3/]
];

for (const [args, message] of cases) {
    test(`lora-studio ${args.join(" ")} exits 2 at once naming the flag and its range`, () => {
        const r = cli(...args);
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.match(r.stderr, /Usage: lora-studio /);
    });
}

test("the usage of chat, eval, export and validate lists every flag with its range, from the schema", () => {
    const usage = cli("chat", "--help").stdout;
    assert.match(usage, /--max-tokens N\s+longest answer in tokens .*\[integer from 1 to the context size\]/);
    assert.match(usage, /--top-p P\s+nucleus sampling threshold \[number from 0 to 1\]/);
    assert.match(cli("export", "--help").stdout, /--force\s+replace an existing file/);
});
