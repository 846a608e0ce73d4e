// The two ways reading a GGUF file fails, as typed errors whose messages name the file: it cannot be opened
// (GgufAccessError: missing, unreadable, a folder or a device), or its bytes are not a GGUF file this loader can use
// (GgufFormatError: the byte offset, the field and the kind of problem).

/** What is wrong with the bytes; stable, for callers and tests that branch on it. */
export type GgufProblem =
    /** The file ends before the header, a table entry or a tensor's data does. */
    | "truncated"
    /** The first four bytes are not "GGUF". */
    | "bad-magic"
    | "unsupported-version"
    /** A count, length, offset or shape that the file's size cannot hold. */
    | "does-not-fit"
    /** The tensor table and the data region disagree (bytes no tensor accounts for, or out-of-order offsets). */
    | "data-mismatch"
    /** Any other malformed field (unknown type code, duplicate key, bad alignment…). */
    | "corrupt";

export class GgufFormatError extends Error {
    constructor(readonly path: string, readonly offset: number, readonly detail: string, readonly problem: GgufProblem = "corrupt") {
        super(`${path}: not a valid GGUF file (byte ${offset}): ${detail}`);
        this.name = "GgufFormatError";
    }
}

const ACCESS_REASONS: Readonly<Record<string, string>> = {
    ENOENT: "does not exist",
    EACCES: "cannot be read: permission denied",
    EPERM: "cannot be read: operation not permitted",
    EISDIR: "is a folder, not a GGUF file",
    ENOTDIR: "does not exist (a part of its path is not a folder)",
    ELOOP: "cannot be opened: too many symbolic links",
    ENAMETOOLONG: "cannot be opened: the path is too long",
    EIO: "cannot be read: input/output error (a failing disk or a network drive that went away)",
    EMFILE: "cannot be opened: this process has too many open files",
    EROFS: "is on a read-only file system"
};

export class GgufAccessError extends Error {
    /** `code` mirrors NodeJS.ErrnoException, so callers that print an errno code still work. */
    constructor(readonly path: string, readonly code: string, reason: string) {
        super(`${path} ${reason} (${code})`);
        this.name = "GgufAccessError";
    }

    static from(path: string, error: unknown): GgufAccessError {
        const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "EUNKNOWN";
        return new GgufAccessError(path, code, ACCESS_REASONS[code] ?? `cannot be read: ${(error as Error | undefined)?.message ?? String(error)}`);
    }
}
