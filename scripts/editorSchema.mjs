// The run-config schema as VS Code's own JSON support should see it (package.json `jsonValidation`, and the
// "$schema" the Start Training wizard writes): property names, descriptions, defaults and allowed values for
// completion and hover, but no constraint, so that VS Code reports nothing itself. The language server checks
// *.lora.json against the full schema (codes RC001…RC203, exact ranges, "did you mean"); with both checking, every
// schema error showed twice. Written to dist/schemas/ by scripts/build.mjs.

/** Keywords that only constrain; `enum` becomes `examples`, which VS Code still offers as completions. */
const CONSTRAINTS = new Set([
    "type", "required", "additionalProperties", "propertyNames", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "contains", "minLength", "maxLength",
    "pattern", "format", "const", "enum", "minProperties", "maxProperties", "not", "if", "then", "else"
]);
/** Keywords whose value maps names to schemas (the names are data, e.g. a property called "format"). */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions"]);
/** Keywords whose value is a schema or a list of schemas. */
const SCHEMA_VALUES = new Set(["items", "additionalItems", "allOf", "anyOf", "oneOf"]);

/** @param {unknown} schema @returns {unknown} */
export function editorSchema(schema) {
    if (Array.isArray(schema)) return schema.map(editorSchema);
    if (schema === null || typeof schema !== "object") return schema;
    /** @type {Record<string, unknown>} */
    const out = {};
    for (const [key, value] of Object.entries(schema)) {
        if (key === "$id") continue; // the full schema owns its id
        if (key === "enum" && Array.isArray(value)) {
            out.examples = [...new Set([...(Array.isArray(out.examples) ? out.examples : []), ...value])];
            continue;
        }
        if (CONSTRAINTS.has(key)) continue;
        if (SCHEMA_MAPS.has(key) && value !== null && typeof value === "object") {
            out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, editorSchema(sub)]));
        } else if (SCHEMA_VALUES.has(key)) {
            out[key] = editorSchema(value);
        } else {
            out[key] = value;
        }
    }
    return out;
}
