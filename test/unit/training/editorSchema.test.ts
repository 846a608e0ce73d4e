// The run-config schema VS Code's JSON support sees (dist/schemas/run-config.editor.schema.json, written by the build):
// the same properties, descriptions, defaults and allowed values as schemas/run-config.schema.json, and no
// constraint, so a config with every kind of schema error passes it while the full schema (the language server's
// and training's) still rejects it. That is what keeps each error from showing twice.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import { editorSchema } from "../../../scripts/editorSchema.mjs";
import { repoRoot } from "../../oracle/torchReference";

const readJson = (rel: string): unknown => JSON.parse(readFileSync(join(repoRoot(), rel), "utf8"));

interface Schema {
    properties?: Record<string, Schema>;
    items?: Schema;
    description?: string;
    default?: unknown;
    enum?: unknown[];
    examples?: unknown[];
    [key: string]: unknown;
}

const full = readJson("schemas/run-config.schema.json") as Schema;
const editor = editorSchema(full) as Schema;

/** Every keyword used anywhere in a schema, property names excluded. */
function keywords(schema: Schema, acc = new Set<string>()): Set<string> {
    for (const [key, value] of Object.entries(schema)) {
        acc.add(key);
        if (key === "properties") for (const sub of Object.values(value as Record<string, Schema>)) keywords(sub, acc);
        else if (key === "items") keywords(value as Schema, acc);
    }
    return acc;
}

test("the build wrote the current transformation, and package.json points VS Code at it", () => {
    assert.deepEqual(readJson("dist/schemas/run-config.editor.schema.json"), editor, "run `npm run build`");
    const pkg = readJson("package.json") as { contributes: { jsonValidation: Array<{ fileMatch: string; url: string }> } };
    assert.deepEqual(pkg.contributes.jsonValidation, [{ fileMatch: "*.lora.json", url: "./dist/schemas/run-config.editor.schema.json" }]);
});

test("keeps every property with its description and default; allowed values become completion examples", () => {
    const names = Object.keys(full.properties ?? {});
    assert.ok(names.length > 10 && names.includes("format"), "a property named like a keyword (format) is kept");
    assert.deepEqual(Object.keys(editor.properties ?? {}), names);
    for (const name of names) {
        const before = full.properties![name]!;
        const after = editor.properties![name]!;
        assert.equal(after.description, before.description, name);
        assert.deepEqual(after.default, before.default, name);
        if (before.enum) assert.deepEqual(after.examples, before.enum, `${name}: its values are still offered`);
        if (before.items?.enum) assert.deepEqual(after.items?.examples, before.items.enum, `${name}[]: its values are still offered`);
    }
});

test("no constraint keyword survives anywhere", () => {
    const left = [...keywords(editor)].filter((k) => !["$schema", "title", "description", "markdownDescription", "default", "examples", "properties", "items"].includes(k));
    assert.deepEqual(left, []);
    assert.ok(keywords(full).has("additionalProperties") && keywords(full).has("minimum"), "the full schema does constrain");
});

test("a config with every kind of schema error passes the editor schema and fails the full one", () => {
    const bad = { data: 42, epoch: 3, rank: "16", learningRate: 5, lrSchedule: "sideways", targetModules: ["attn_x", "attn_x"], format: "yaml" };
    const ajv = new Ajv({ allErrors: true, strict: false });
    const strict = ajv.compile(full);
    assert.equal(strict(bad), false);
    const kinds = new Set((strict.errors ?? []).map((e) => e.keyword));
    for (const k of ["required", "additionalProperties", "type", "maximum", "enum", "uniqueItems"]) assert.ok(kinds.has(k), `the full schema reports ${k}: ${[...kinds].join(", ")}`);
    const loose = new Ajv({ allErrors: true, strict: false }).compile(editor);
    assert.equal(loose(bad), true, JSON.stringify(loose.errors));
});
