// One schema per command (issue 12.2): the RPC and the CLI check chat, eval, export and validate parameters with the
// same definitions, every numeric field has a range, and each error names the field (RPC) or the flag (CLI) and the
// allowed range. The run-config schema bounds every number too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CHAT_OPEN_PARAMS, CHAT_SEND_PARAMS, EVAL_RUN_PARAMS, EXPORT_RUN_PARAMS, VALIDATE_PARAMS } from "../../../sidecar/src/params/commands";
import { parseCliArgs } from "../../../sidecar/src/params/cliArgs";
import { checkLimit, checkParams, ParamError, type ParamSchema } from "../../../sidecar/src/params/schema";
import { UsageError } from "../../../sidecar/src/cli/types";
import { DATASET_FORMATS } from "../../../sidecar/src/datasets";
import { EXPORT_FORMATS, MERGED_TYPES, PEFT_DTYPES } from "../../../sidecar/src/export";
import { repoRoot } from "../support/repoRoot";

const SCHEMAS: Record<string, ParamSchema> = { CHAT_OPEN_PARAMS, CHAT_SEND_PARAMS, EVAL_RUN_PARAMS, EXPORT_RUN_PARAMS, VALIDATE_PARAMS };
const rpc = (method: string) => ({ face: { face: "rpc" as const, method } });

test("every numeric field of every command has a finite minimum and a maximum (a number, or a limit with a static cap)", () => {
    for (const [name, schema] of Object.entries(SCHEMAS)) {
        for (const [field, spec] of Object.entries(schema)) {
            if (spec.kind !== "integer" && spec.kind !== "number") continue;
            assert.ok(Number.isFinite(spec.min), `${name}.${field}: minimum`);
            if (spec.kind === "integer" && typeof spec.max !== "number") assert.ok(Number.isFinite(spec.cap), `${name}.${field}: a cap while its limit is unknown`);
            else assert.ok(Number.isFinite(spec.max as number), `${name}.${field}: maximum`);
        }
    }
});

test("the enums of the schemas are the core's own lists, so a new format cannot be forgotten in one face", () => {
    assert.deepEqual(VALIDATE_PARAMS.format.values, ["auto", ...DATASET_FORMATS]);
    assert.deepEqual(EXPORT_RUN_PARAMS.format.values, EXPORT_FORMATS);
    assert.deepEqual(EXPORT_RUN_PARAMS.type.values, MERGED_TYPES);
    assert.deepEqual(EXPORT_RUN_PARAMS.dtype.values, PEFT_DTYPES);
});

test("maxTokens 0, -1, 1e9 and 1.5 are refused by chat/send and by `chat --max-tokens`, naming the field or flag and the range", () => {
    for (const bad of [0, -1, 1e9, 1.5]) {
        assert.throws(
            () => checkParams(CHAT_SEND_PARAMS, { sessionId: "s", requestId: "r", message: "hi", maxTokens: bad }, { ...rpc("chat/send"), limits: { contextSize: 1024 } }),
            (e: unknown) => e instanceof ParamError && e.message === `chat/send: "maxTokens" must be an integer from 1 to 1024 (the context size), got ${bad}`
        );
        assert.throws(
            () => {
                const { values } = parseCliArgs({ ...CHAT_OPEN_PARAMS, ...CHAT_SEND_PARAMS }, ["--model", "m.gguf", "--max-tokens", String(bad)]);
                checkLimit(CHAT_SEND_PARAMS, "maxTokens", values.maxTokens, { contextSize: 1024 }, { face: "cli" });
            },
            (e: unknown) => (e instanceof UsageError || e instanceof ParamError) && /^--max-tokens must be an integer from 1 to /.test(e.message) && e.message.endsWith(`got ${bad}`)
        );
    }
});

test("the CLI and the RPC refuse the same values with the same rule, field by field", () => {
    const cases: Array<[ParamSchema, string, Record<string, unknown>, string[], RegExp]> = [
        [EVAL_RUN_PARAMS, "eval/run", { evalId: "e", limit: 0 }, ["--limit", "0"], /an integer from 1 to 10000000/],
        [EVAL_RUN_PARAMS, "eval/run", { evalId: "e", threads: -1 }, ["--threads", "-1"], /an integer from 0 to 4 \(this machine's logical CPUs\)/],
        [CHAT_SEND_PARAMS, "chat/send", { sessionId: "s", requestId: "r", message: "m", temperature: 11 }, ["--temperature", "11"], /a number from 0 to 10/],
        [CHAT_SEND_PARAMS, "chat/send", { sessionId: "s", requestId: "r", message: "m", topP: Number.NaN }, ["--top-p", "NaN"], /a number from 0 to 1/],
        [CHAT_OPEN_PARAMS, "chat/open", { model: "m", contextSize: 10 }, ["--model", "m", "--context-size", "10"], /an integer from 64 to 1048576/],
        [EXPORT_RUN_PARAMS, "export/run", { format: "zip" }, ["--format", "zip"], /one of gguf-lora, merged, ollama, peft/],
        [VALIDATE_PARAMS, "validate", { maxDiagnostics: 0 }, ["--max-diagnostics", "0"], /an integer from 1 to 1000000/],
        [EVAL_RUN_PARAMS, "eval/run", { evalId: "e", model: "a\u0000b" }, ["--model", "a\u0000b"], /a non-empty path .* without NUL/]
    ];
    for (const [schema, method, params, args, rule] of cases) {
        let rpcMessage = "";
        try {
            checkParams(schema, params, { ...rpc(method), limits: { cpus: 4 } });
        } catch (e) {
            rpcMessage = (e as Error).message;
        }
        assert.match(rpcMessage, rule, `${method} ${JSON.stringify(params)}`);
        assert.throws(() => parseCliArgs(schema, args, { limits: { cpus: 4 } }), (e: unknown) => e instanceof UsageError && rule.test(e.message) && e.message.startsWith(args[args.length - 2]!), args.join(" "));
    }
});

test("an unknown field is refused rather than ignored, and null counts as absent", () => {
    assert.throws(() => checkParams(CHAT_SEND_PARAMS, { sessionId: "s", requestId: "r", message: "m", maxToken: 5 }, rpc("chat/send")), /"maxToken" .*must be one of the known fields/);
    assert.deepEqual(checkParams(CHAT_SEND_PARAMS, { sessionId: "s", requestId: "r", message: "m", topP: null }, rpc("chat/send")), { sessionId: "s", requestId: "r", message: "m" });
    assert.throws(() => checkParams(EVAL_RUN_PARAMS, { evalId: "e", json: true }, rpc("eval/run")), /"json"/, "a CLI-only switch is not an RPC field");
});

test("every numeric property of the run-config schema has a minimum and a maximum", () => {
    const schema = JSON.parse(readFileSync(join(repoRoot, "schemas", "run-config.schema.json"), "utf8")) as { properties: Record<string, Record<string, unknown>> };
    for (const [name, p] of Object.entries(schema.properties)) {
        if (p.type !== "number" && p.type !== "integer") continue;
        assert.ok("minimum" in p || "exclusiveMinimum" in p, `${name}: minimum`);
        assert.ok("maximum" in p || "exclusiveMaximum" in p, `${name}: maximum`);
    }
});
