// The import's typed errors. Every message that concerns the data names the file, the row (and line, in text
// formats) and the column, so a bad row in a 1 GB file can be found without searching.
import { basename } from "node:path";

/** Where in the input a problem is. */
export interface RowPlace {
    file: string;
    row?: number;
    line?: number;
    /** A data column (`support`, `conversations[2].from`) or, for a syntax error, a character column on the line. */
    column?: string;
    charColumn?: number;
}

function describePlace(place: RowPlace): string {
    const parts: string[] = [];
    if (place.row !== undefined) parts.push(`row ${place.row}${place.line !== undefined ? ` (line ${place.line}${place.charColumn !== undefined ? `, character ${place.charColumn}` : ""})` : ""}`);
    else if (place.line !== undefined) parts.push(`line ${place.line}${place.charColumn !== undefined ? `, character ${place.charColumn}` : ""}`);
    if (place.column !== undefined) parts.push(`column "${place.column}"`);
    return `${basename(place.file)}: ${parts.length ? `${parts.join(", ")}: ` : ""}`;
}

/** A row that cannot be read or converted: bad syntax, a wrong value type, an unknown role. */
export class ImportRowError extends Error {
    override name = "ImportRowError";
    constructor(readonly place: RowPlace, readonly problem: string) {
        super(`${describePlace(place)}${problem}`);
    }
}

/** A problem with one cell found while converting; the caller adds the file and row (ImportRowError). */
export class CellError extends Error {
    override name = "CellError";
    constructor(readonly column: string, readonly problem: string) {
        super(`column "${column}": ${problem}`);
    }
}

/** The request itself is wrong: an unknown column in a template, a mapping the file's columns do not fit. */
export class ImportRequestError extends Error {
    override name = "ImportRequestError";
}

/** Outputs (out, held-out) that exist while the request did not ask to replace them; all are named, to ask once. */
export class ImportTargetExistsError extends Error {
    override name = "ImportTargetExistsError";
    constructor(readonly paths: readonly string[]) {
        super(`${paths.join(" and ")} already exist${paths.length === 1 ? "s" : ""}`);
    }
}

/** Writing the output failed (a full disk, a read-only folder); the partial file has been removed. */
export class ImportWriteError extends Error {
    override name = "ImportWriteError";
    constructor(readonly path: string, override readonly cause: NodeJS.ErrnoException) {
        super(`could not write ${path}: ${cause.code === "ENOSPC" ? "no space left on device" : cause.message} (${cause.code ?? "error"}); nothing was written, the partial file was removed`);
    }
}

/** The import was cancelled; nothing was written. */
export class ImportCancelledError extends Error {
    override name = "ImportCancelledError";
    constructor() {
        super("import cancelled; nothing was written");
    }
}
