// Settings cover every engine option: each run-config field that is not a path has a `loraStudio.training.<field>`
// setting in package.json with the schema's default (so the wizard's configs and a hand-written config agree),
// and the wizard reads them back as config fields.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../oracle/torchReference";
import { PATH_FIELDS, SETTING_FIELDS, settingsToConfig, TRAINING_SETTINGS_SECTION } from "../../../extension/src/training/startWizardConfig";
import { resolvedConfig } from "../../../sidecar/src/training/config";

type SchemaProperty = {
    type?: string; default?: unknown; enum?: unknown[]; minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number;
    items?: unknown; minItems?: number; uniqueItems?: boolean;
};

const readJson = (path: string): unknown => JSON.parse(readFileSync(join(repoRoot(), path), "utf8"));
const schema = readJson("schemas/run-config.schema.json") as { properties: Record<string, SchemaProperty> };
const settings = (readJson("package.json") as { contributes: { configuration: { properties: Record<string, SchemaProperty & { type?: string | string[] }> } } })
    .contributes.configuration.properties;

test("every engine option of the run-config schema has a setting with the same default and bounds", () => {
    const options = Object.keys(schema.properties).filter((field) => !PATH_FIELDS.has(field));
    assert.ok(options.length >= 20, `the schema's options: ${options.join(", ")}`);
    const problems: string[] = [];
    for (const field of options) {
        const key = `${TRAINING_SETTINGS_SECTION}.${field}`;
        const option = schema.properties[field]!;
        const setting = settings[key];
        if (!setting) {
            problems.push(`${key}: missing from package.json contributes.configuration`);
            continue;
        }
        // A field without a schema default is an unset (null) setting: the schema's own rule (e.g. warmupRatio) applies.
        const expected = option.default === undefined ? null : option.default;
        if (JSON.stringify(setting.default) !== JSON.stringify(expected)) {
            problems.push(`${key}: default ${JSON.stringify(setting.default)}, schema default ${JSON.stringify(expected)}`);
        }
        // `items` too: an array option's allowed values (targetModules) are its items' enum.
        for (const bound of ["enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "items", "minItems", "uniqueItems"] as const) {
            if (JSON.stringify(setting[bound]) !== JSON.stringify(option[bound])) {
                problems.push(`${key}: ${bound} ${JSON.stringify(setting[bound])}, schema ${JSON.stringify(option[bound])}`);
            }
        }
        const types = Array.isArray(setting.type) ? setting.type : [setting.type];
        if (!types.includes(option.type)) problems.push(`${key}: type ${JSON.stringify(setting.type)}, schema ${option.type}`);
    }
    for (const key of Object.keys(settings).filter((k) => k.startsWith(`${TRAINING_SETTINGS_SECTION}.`))) {
        const field = key.slice(TRAINING_SETTINGS_SECTION.length + 1);
        if (!(field in schema.properties)) problems.push(`${key}: no such run-config field (stale setting)`);
    }
    assert.deepEqual(problems, []);
    assert.deepEqual([...SETTING_FIELDS].sort(), [...options].sort(), "the wizard reads exactly these settings");
});

test("the settings' defaults are QLoRA practice: r 16, alpha 32, lr 2e-4, warmup then cosine", () => {
    const get = (field: string): unknown => settings[`${TRAINING_SETTINGS_SECTION}.${field}`]?.default;
    assert.equal(get("rank"), 16);
    assert.equal(get("alpha"), 32);
    assert.equal(get("learningRate"), 2e-4);
    assert.equal(get("lrSchedule"), "cosine");
    assert.ok((get("warmupRatio") as number) > 0);
});

test("settings become config fields; unset (null) ones are left to the schema", () => {
    const defaults = settingsToConfig((field) => settings[`${TRAINING_SETTINGS_SECTION}.${field}`]?.default);
    assert.equal("warmupSteps" in defaults, false);
    const resolved = resolvedConfig({ model: "/m.gguf", data: "/d.jsonl", ...defaults }, "settings");
    const schemaOnly = resolvedConfig({ model: "/m.gguf", data: "/d.jsonl" }, "schema");
    assert.deepEqual(resolved, schemaOnly, "a config from the default settings equals one with no options at all");
    const changed = settingsToConfig((field) => (field === "rank" ? 64 : field === "warmupSteps" ? 10 : null));
    assert.deepEqual(changed, { rank: 64, warmupSteps: 10 });
});
