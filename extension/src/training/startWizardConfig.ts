// The pure half of "LoRA Studio: Start Training": the `loraStudio.training.*` settings as run-config fields, and
// the run config the wizard writes from the user's picks. No vscode import, so unit tests cover it directly.
import { basename, dirname, relative, sep } from "node:path";
import runConfigSchema from "../../../schemas/run-config.schema.json";
import type { TrainingConfig, TrainingPresetId } from "../../../sidecar/src/protocol/sidecar";
import type { ModelTrainability } from "../../../sidecar/src/training/modelCheck";
import { TRAINING_PRESETS } from "../../../sidecar/src/training/presets";

export const TRAINING_SETTINGS_SECTION = "loraStudio.training";

/** Run-config fields that are paths: they come from the wizard's picks, never from settings. */
export const PATH_FIELDS: ReadonlySet<string> = new Set(["$schema", "model", "data", "validationData", "output"]);

/** Every engine option of the schema, i.e. every field with a `loraStudio.training.<field>` setting. */
export const SETTING_FIELDS: readonly string[] = Object.keys(runConfigSchema.properties).filter((field) => !PATH_FIELDS.has(field));

export type SettingsConfig = Omit<TrainingConfig, "model" | "data" | "validationData" | "output">;

/**
 * The settings' values as config fields. `get(field)` reads `loraStudio.training.<field>`; null or undefined
 * (e.g. warmupSteps, which has no default) leaves the field out, so the schema's default applies.
 */
export function settingsToConfig(get: (field: string) => unknown): SettingsConfig {
    const config: Record<string, unknown> = {};
    for (const field of SETTING_FIELDS) {
        const value = get(field);
        if (value !== null && value !== undefined) config[field] = value;
    }
    return config as SettingsConfig;
}

export interface WizardPicks {
    /** Absolute paths. */
    dataset: string;
    model: string;
    preset: TrainingPresetId;
    /** Absolute path of the `<name>.lora.json` to write. */
    configPath: string;
    /** What "$schema" says: where the editor finds the run-config schema. */
    schemaUri: string;
}

/** A path as the config stores it: relative to the config's folder when below it, absolute otherwise. */
export function configRelativePath(configPath: string, target: string): string {
    const rel = relative(dirname(configPath), target);
    if (rel === "" || rel.startsWith("..") || rel.includes(":")) return target;
    return rel.split(sep).join("/");
}

/** The run config: "$schema", the picked paths, the settings, then the preset's memory-shaped fields over them. */
export function buildRunConfig(picks: WizardPicks, settings: SettingsConfig): Record<string, unknown> {
    return {
        $schema: picks.schemaUri,
        model: configRelativePath(picks.configPath, picks.model),
        data: configRelativePath(picks.configPath, picks.dataset),
        ...settings,
        ...TRAINING_PRESETS[picks.preset].settings
    };
}

export const CONFIG_SUFFIX = ".lora.json";

/** The run name offered first: the dataset's file name without its extension. */
export function defaultRunName(datasetPath: string): string {
    const name = basename(datasetPath).replace(/\.jsonl$/i, "").replace(/[^A-Za-z0-9._-]+/g, "-");
    return name === "" ? "run" : name;
}

/** Why `name` cannot name a config file, or undefined when it can. */
export function runNameProblem(name: string): string | undefined {
    if (name.trim() === "") return "Enter a name for the run.";
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) return "Use letters, digits, '.', '_' and '-' (starting with a letter or digit).";
    if (name.length > 100) return "Use at most 100 characters.";
    return undefined;
}

const GiB = 2 ** 30;

/** "needs 4.2 GiB of 7.6 GiB free" (or why it would shrink or not fit), for a preset's quick-pick line. */
export function describeEstimate(estimate: { totalBytes: number; fits: boolean; shrinksTo?: { sequenceLength: number; gradAccum: number } }, availableBytes: number): string {
    const needs = `needs ~${(estimate.totalBytes / GiB).toFixed(1)} GiB of ${(availableBytes / GiB).toFixed(1)} GiB free`;
    if (estimate.fits) return `$(check) ${needs}`;
    if (estimate.shrinksTo) return `$(warning) ${needs}: would train ${estimate.shrinksTo.sequenceLength}-token rows × ${estimate.shrinksTo.gradAccum}`;
    return `$(error) ${needs}: does not fit`;
}

/**
 * How the base-model quick pick shows a GGUF, before the user picks it: its architecture and the families it covers
 * when the engine can train it; marked, with the reason, when it cannot (an unsupported or MoE architecture, an
 * adapter, an unreadable file).
 */
export function describeModelChoice(trainability: ModelTrainability): { trainable: boolean; description: string; detail?: string } {
    if (trainability.trainable) return { trainable: true, description: `${trainability.arch} · ${trainability.spec.examples}` };
    const reason = trainability.reason.charAt(0).toUpperCase() + trainability.reason.slice(1);
    return { trainable: false, description: "$(error) cannot be trained", detail: reason };
}
