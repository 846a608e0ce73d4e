// How "Choose Base Model" and the wizard's model step show models/list's answer: found models grouped by source
// under a separator each (Workspace, Models folder, Ollama, LM Studio, Hugging Face cache, node-llama-cpp), each with
// its header's facts and whether it trains; unreadable files with the reason; then the catalogue's models that are not
// downloaded, with the download size and the preset's memory estimate. Pure (no vscode import), so it is unit-tested;
// commands.ts turns the entries into quick-pick items.
import type { CatalogueOffer, ModelsListResult, TrainingPresetId } from "../../../sidecar/src/protocol/sidecar";
import { MODEL_SOURCE_LABELS, MODEL_SOURCES, type FoundModel, type ModelSourceId } from "../../../sidecar/src/protocol/models";
import { formatBytes, formatParameterCount } from "../../../sidecar/src/models/modelFacts";
import { TRAINING_PRESETS } from "../../../sidecar/src/training/presets";

export type ModelPickEntry =
    | { kind: "separator"; label: string }
    | { kind: "model"; label: string; description: string; detail: string; model: FoundModel; /** Why it cannot be the base model. */ refusal?: string }
    | { kind: "catalogue"; label: string; description: string; detail: string; offer: CatalogueOffer };

const GiB = 2 ** 30;

function gib(bytes: number): string {
    return `${(bytes / GiB).toFixed(1)} GiB`;
}

/** One found model: "llama · 1.24B params · Q4_K_M · ctx 131072 · 808 MB", then trainable or why not, and the path. */
export function describeFoundModel(m: FoundModel): Extract<ModelPickEntry, { kind: "model" }> {
    if (!m.readable) {
        return { kind: "model", label: `$(warning) ${m.name}`, description: "unreadable", detail: m.reason, model: m, refusal: `${m.path} cannot be read as a GGUF model: ${m.reason}` };
    }
    const f = m.facts;
    const description = [
        f.architecture, `${formatParameterCount(f.parameterCount)} params`, f.quantization,
        ...(f.contextLength !== undefined ? [`ctx ${f.contextLength}`] : []), formatBytes(f.fileBytes)
    ].join(" · ");
    if (f.trainable) return { kind: "model", label: m.name, description, detail: `$(check) trainable · ${m.path}`, model: m };
    const reason = f.notTrainableReason ?? "its architecture is not supported";
    return { kind: "model", label: m.name, description, detail: `$(error) cannot be trained: ${reason}`, model: m, refusal: `${m.name} cannot be trained: ${reason}` };
}

/** One catalogue model: its size before download, and "needs ≈ 3.4 GiB of the GPU 6 GB preset's 6.0 GiB". */
export function describeOffer(o: CatalogueOffer, preset: TrainingPresetId): Extract<ModelPickEntry, { kind: "catalogue" }> {
    const p = TRAINING_PRESETS[preset];
    const needs = `needs ≈ ${gib(o.memory.totalBytes)} of the ${p.label} preset's ${gib(o.memory.presetMemoryBytes)}`;
    return {
        kind: "catalogue",
        label: `$(cloud-download) ${o.label}`,
        description: `not downloaded · ${o.architecture} · ${formatParameterCount(o.parameters)} params · Q4_K_M · ≈ ${formatBytes(o.downloadBytes)} download`,
        detail: o.memory.fits ? `$(check) ${needs}` : `$(warning) ${needs}: too large for it`,
        offer: o
    };
}

export interface EntryOptions {
    /** Sources another list already shows (the wizard lists workspace files itself). */
    skipSources?: readonly ModelSourceId[];
    /** Add the catalogue's models that are not on disk (Choose Base Model; the wizard asks through "Download a model…"). */
    catalogue: boolean;
}

/** The entries in list order: one separator per source that found something, then the catalogue. */
export function modelPickEntries(list: ModelsListResult, options: EntryOptions): ModelPickEntry[] {
    const entries: ModelPickEntry[] = [];
    for (const source of MODEL_SOURCES) {
        if (options.skipSources?.includes(source)) continue;
        const models = list.models.filter((m) => m.source === source);
        if (models.length === 0) continue;
        entries.push({ kind: "separator", label: MODEL_SOURCE_LABELS[source] }, ...models.map(describeFoundModel));
    }
    if (options.catalogue && list.notDownloaded.length > 0) {
        entries.push({ kind: "separator", label: "Catalogue (not downloaded)" }, ...list.notDownloaded.map((o) => describeOffer(o, list.preset)));
    }
    return entries;
}
