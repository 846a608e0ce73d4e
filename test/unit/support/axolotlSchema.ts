// What Axolotl would read from an exported config.yml: the YAML parsed by PyYAML's safe_load (the loader Axolotl uses,
// an independent reader of our own YAML writer), checked against our JSON Schema of Axolotl 0.18.0's configuration
// (test/fixtures/axolotl/axolotl-config-schema.v0.18.0.json: its $comment names the source files and commit).
import { spawnSync } from "node:child_process";
import Ajv, { type ErrorObject } from "ajv";
import schema from "../../fixtures/axolotl/axolotl-config-schema.v0.18.0.json";
import { PYTHON } from "../../oracle/torchReference";

const LOAD = "import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin.read()))))";

/** Why PyYAML cannot run here (the tests that need it skip with this reason), or undefined when it can. */
export function pyyamlMissing(): string | undefined {
    const r = spawnSync(PYTHON, ["-c", "import yaml"], { encoding: "utf8" });
    return r.status === 0 ? undefined : `PyYAML is not importable by ${PYTHON}: ${r.stderr.trim() || r.error?.message}`;
}

/** Each document as PyYAML's safe_load reads it, through JSON; one Python process for all of them. */
export function pyyamlLoadAll(texts: readonly string[]): unknown[] {
    const r = spawnSync(PYTHON, ["-c", LOAD], { input: texts.map((t) => `---\n${t}`).join(""), encoding: "utf8" });
    if (r.status !== 0) throw new Error(`yaml.safe_load failed:\n${r.stderr}`);
    return JSON.parse(r.stdout) as unknown[];
}

export function pyyamlLoad(text: string): unknown {
    return pyyamlLoadAll([text])[0];
}

const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

/** The schema's errors for a config (empty when it is valid). */
export function axolotlSchemaErrors(config: unknown): ErrorObject[] {
    return validate(config) ? [] : [...(validate.errors ?? [])];
}
