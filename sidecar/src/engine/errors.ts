// Typed errors of the engine. The addon rejects with an Error carrying a stable `code`; toEngineError maps it
// to one of these classes so callers can `instanceof` instead of parsing messages.

export type EngineErrorCode =
    | "ENGINE_UNAVAILABLE"
    | "INVALID_MODEL"
    | "UNSUPPORTED_ARCH"
    | "INVALID_ARGUMENT"
    | "INVALID_BATCH"
    | "TARGET_NOT_FOUND"
    | "NON_FINITE"
    | "CANCELLED"
    | "DISPOSED"
    | "BUSY"
    | "IO_ERROR"
    | "INVALID_CHECKPOINT"
    | "OUT_OF_MEMORY"
    | "INTERNAL";

export class EngineError extends Error {
    constructor(readonly code: EngineErrorCode, message: string) {
        super(message);
        this.name = new.target.name;
    }
}

/** The native engine is not built or cannot be loaded on this machine. */
export class EngineUnavailableError extends EngineError {
    constructor(message: string) {
        super("ENGINE_UNAVAILABLE", message);
    }
}

/** A missing, truncated or corrupt GGUF, or an architecture the engine cannot train. */
export class InvalidModelError extends EngineError {}

/** Adapter or optimizer options out of range, or target modules the model lacks. */
export class InvalidArgumentError extends EngineError {}

/** A micro-batch that is empty, too large, inconsistent or without labelled tokens. */
export class InvalidBatchError extends EngineError {}

/** A NaN or infinite loss or gradient: training stopped and no update was applied. */
export class NonFiniteError extends EngineError {}

export class EngineCancelledError extends EngineError {
    constructor(message = "training was cancelled") {
        super("CANCELLED", message);
    }
}

export class EngineDisposedError extends EngineError {}

export class CheckpointError extends EngineError {}

/**
 * An allocation failed: host memory, or VRAM on CUDA. The addon has no code of its own for it: llama.cpp returns
 * -8 ("failed to allocate the training graph") or a failed status from the graph, C++ throws std::bad_alloc, and
 * the addon reports those as INTERNAL with llama.cpp's last log lines appended. toEngineError recognizes them by
 * that text (OUT_OF_MEMORY_TEXT) so the trainer can retry with a smaller micro-batch.
 */
export class OutOfMemoryError extends EngineError {}

/** What llama.cpp, ggml-cuda and the C++ runtime write when an allocation fails. */
export const OUT_OF_MEMORY_TEXT = /out of memory|failed to allocate|bad_alloc|cudaMalloc failed|unable to allocate|\(code -8\)/i;

const classOf: Record<EngineErrorCode, new (code: EngineErrorCode, message: string) => EngineError> = {
    ENGINE_UNAVAILABLE: EngineError,
    INVALID_MODEL: InvalidModelError,
    UNSUPPORTED_ARCH: InvalidModelError,
    INVALID_ARGUMENT: InvalidArgumentError,
    TARGET_NOT_FOUND: InvalidArgumentError,
    INVALID_BATCH: InvalidBatchError,
    NON_FINITE: NonFiniteError,
    CANCELLED: EngineError,
    DISPOSED: EngineDisposedError,
    BUSY: EngineError,
    IO_ERROR: EngineError,
    INVALID_CHECKPOINT: CheckpointError,
    OUT_OF_MEMORY: OutOfMemoryError,
    INTERNAL: EngineError
};

export function toEngineError(err: unknown): EngineError {
    if (err instanceof EngineError) return err;
    const e = err as { code?: unknown; message?: unknown };
    const message = typeof e?.message === "string" ? e.message : String(err);
    const code = typeof e?.code === "string" && e.code in classOf ? (e.code as EngineErrorCode) : "INTERNAL";
    if (code === "CANCELLED") return new EngineCancelledError(message);
    if ((code === "INTERNAL" || code === "IO_ERROR") && OUT_OF_MEMORY_TEXT.test(message)) return new OutOfMemoryError("OUT_OF_MEMORY", message);
    return new classOf[code](code, message);
}
