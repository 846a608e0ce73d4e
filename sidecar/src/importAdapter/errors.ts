// Every refusal of a PEFT import: a message naming the file and the field (or tensor) at fault, and what to do.
export class AdapterImportError extends Error {
    override name = "AdapterImportError";
}
