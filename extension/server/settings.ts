// Resolves the `loraStudio.*` settings into validator options for one document.
import { isAbsolute, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { matchGlob, optionsForPath, type ColumnMapping, type ValidateOptions } from "../../sidecar/src/datasets/index";
import { TRUNCATION_POLICIES } from "../../sidecar/src/pipeline/truncate";
import type { TruncationPolicy } from "../../sidecar/src/pipeline/types";
import { DEFAULT_DATASET_SETTINGS, type DatasetSettings } from "../../sidecar/src/protocol/languageServer";

/** Settings arrive from the client untyped; keep the defaults for anything missing or malformed. */
export function sanitizeSettings(raw: unknown): DatasetSettings {
    const s = (typeof raw === "object" && raw !== null ? raw : {}) as Partial<Record<keyof DatasetSettings, unknown>> & Record<string, unknown>;
    const positive = (v: unknown, fallback: number) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback);
    return {
        baseModel: typeof s.baseModel === "string" ? s.baseModel.trim() : DEFAULT_DATASET_SETTINGS.baseModel,
        maxSequenceLength: positive(trainingSetting(s, "sequenceLength") ?? s.maxSequenceLength, DEFAULT_DATASET_SETTINGS.maxSequenceLength),
        maxDiagnosticsPerFile: positive(s.maxDiagnosticsPerFile, DEFAULT_DATASET_SETTINGS.maxDiagnosticsPerFile),
        datasetFormats: Array.isArray(s.datasetFormats)
            ? s.datasetFormats.filter((o): o is DatasetSettings["datasetFormats"][number] =>
                typeof o === "object" && o !== null && typeof (o as { glob?: unknown }).glob === "string" && typeof (o as { format?: unknown }).format === "string")
            : [],
        columnMappings: typeof s.columnMappings === "object" && s.columnMappings !== null && !Array.isArray(s.columnMappings)
            ? (s.columnMappings as Record<string, ColumnMapping>)
            : {},
        truncation: truncationOf(s)
    };
}

/**
 * VS Code sends `loraStudio.training.*` nested (`training: { truncation }`). The dataset checks use the same
 * sequence length and truncation as training, so what the preview calls "truncated" is what a run truncates.
 */
function trainingSetting(s: Record<string, unknown>, key: string): unknown {
    const training = s["training"];
    return typeof training === "object" && training !== null ? (training as Record<string, unknown>)[key] : undefined;
}

/** `loraStudio.training.truncation`; a flat `truncation` is accepted too. */
function truncationOf(s: Record<string, unknown>): TruncationPolicy {
    const value = trainingSetting(s, "truncation") ?? s["truncation"];
    return (TRUNCATION_POLICIES as readonly unknown[]).includes(value) ? (value as TruncationPolicy) : DEFAULT_DATASET_SETTINGS.truncation;
}

/** A document's path relative to the workspace folder that holds it, with `/` separators (or its absolute path). */
export function workspaceRelativePath(uri: string, workspaceFolders: string[]): string {
    const path = uriToPath(uri);
    for (const folder of workspaceFolders) {
        const rel = relative(folder, path);
        if (rel && !rel.startsWith("..") && !isAbsolute(rel)) return rel.split(sep).join("/");
    }
    return path.split(sep).join("/");
}

export function uriToPath(uri: string): string {
    if (uri.startsWith("file:")) return fileURLToPath(uri);
    // untitled:, vscode-remote: …: the path part is enough for glob matching.
    try {
        return decodeURIComponent(new URL(uri).pathname);
    } catch {
        return uri;
    }
}

/** Validator options for one document: the first matching override wins, then the column-mapping globs. */
export function validateOptionsFor(relativePath: string, settings: DatasetSettings): ValidateOptions {
    const options = optionsForPath(relativePath, settings.datasetFormats, { format: "auto", maxDiagnostics: settings.maxDiagnosticsPerFile });
    if (!options.columnMapping) {
        const mapping = Object.entries(settings.columnMappings).find(([glob]) => matchGlob(glob, relativePath));
        if (mapping !== undefined) return { ...options, columnMapping: mapping[1] };
    }
    return options;
}

/** The configured base model as an absolute path, or null when none is set. */
export function resolveModelPath(settings: DatasetSettings, workspaceFolders: string[]): string | null {
    if (!settings.baseModel) return null;
    return isAbsolute(settings.baseModel) ? settings.baseModel : resolve(workspaceFolders[0] ?? process.cwd(), settings.baseModel);
}
