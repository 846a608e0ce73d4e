// The preview the editor shows before anything is written: the first rows of a file converted by the same
// importDataset that writes them, as the very lines the output will hold, with the mapping that was detected.
import type { MappingRequest } from "./mapping";
import { exampleLine, importDataset, type ResolvedImportMapping } from "./run";
import type { InputFormat } from "./types";

export interface ImportPreview extends ResolvedImportMapping {
    /** The mapping, one line per message ("user ← Question: {question}…"). */
    description: string[];
    /** The first rows as the output's lines (no trailing newline). */
    lines: string[];
}

export interface PreviewRequest extends MappingRequest {
    format?: InputFormat;
}

/** Converts the first `rows` rows of `file` under `request`; writes nothing. Bad rows fail as importDataset's do. */
export async function previewImport(file: string, request: PreviewRequest, rows: number): Promise<ImportPreview> {
    let mapping: { description: string[]; resolved: ResolvedImportMapping } | undefined;
    const result = await importDataset({
        ...request, input: file, preview: rows,
        onMapping: (description, resolved) => (mapping = { description, resolved })
    });
    // importDataset resolves the mapping before the first row, or throws.
    const { description, resolved } = mapping!;
    return { ...resolved, description, lines: result.preview.map((example) => exampleLine(example.messages)) };
}

