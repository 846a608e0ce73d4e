// Every refusal of a PEFT import: a message naming the file and the field (or tensor) at fault, and what to do.
export class AdapterImportError extends Error {
    override name = "AdapterImportError";
}

/** The output exists and `overwrite` was not given: the editor asks, the CLI says to pass --force. */
export class AdapterImportTargetExistsError extends AdapterImportError {
    override name = "AdapterImportTargetExistsError";
    constructor(readonly path: string) {
        super(`${path} already exists; the import replaces nothing unless asked (--force on the command line, or confirm in the editor)`);
    }
}
