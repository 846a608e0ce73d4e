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
 * An allocation failed: host memory, or VRAM on CUDA. The addon reports it with its own code: llama.cpp says so through
 * its C API (patch 0011: llama_last_failure_was_out_of_memory, llama_lora_train_init's -10, llama_lora_train_eval's -8)
 * and a std::bad_alloc in the engine's own code is caught by type, so the trainer can retry with a smaller micro-batch
 * without reading log text.
 */
export class OutOfMemoryError extends EngineError {}

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
    return new classOf[code](code, message);
}
