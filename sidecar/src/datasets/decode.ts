// Bytes → text for callers that read files themselves (the CLI). Invalid UTF-8 is not fatal: the bad bytes
// become U+FFFD and the flag tells the validator to report those characters as invalid bytes on their line.
export interface DecodedDataset {
    text: string;
    invalidUtf8: boolean;
}

export function decodeDatasetBytes(bytes: Uint8Array): DecodedDataset {
    // ignoreBOM keeps a BOM in the text so the validator can flag it (LS007).
    try {
        return { text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes), invalidUtf8: false };
    } catch {
        return { text: new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(bytes), invalidUtf8: true };
    }
}
