// Errors of the engine layer (plain C++, no N-API). Every failure carries a stable `code`, which the N-API layer
// (addon_error.h) turns into a JavaScript Error mapped to typed classes in sidecar/src/engine/errors.ts; nothing here
// may exit or abort.
#pragma once

#include <stdexcept>
#include <string>

// Codes shared with sidecar/src/engine/errors.ts.
#define ENGINE_ERR_INVALID_MODEL      "INVALID_MODEL"
#define ENGINE_ERR_UNSUPPORTED_ARCH   "UNSUPPORTED_ARCH"
#define ENGINE_ERR_INVALID_ARGUMENT   "INVALID_ARGUMENT"
#define ENGINE_ERR_INVALID_BATCH      "INVALID_BATCH"
#define ENGINE_ERR_TARGET_NOT_FOUND   "TARGET_NOT_FOUND"
#define ENGINE_ERR_NON_FINITE         "NON_FINITE"
#define ENGINE_ERR_CANCELLED          "CANCELLED"
#define ENGINE_ERR_DISPOSED           "DISPOSED"
#define ENGINE_ERR_BUSY               "BUSY"
#define ENGINE_ERR_IO                 "IO_ERROR"
#define ENGINE_ERR_INVALID_CHECKPOINT "INVALID_CHECKPOINT"
#define ENGINE_ERR_INTERNAL           "INTERNAL"
#define ENGINE_ERR_OUT_OF_MEMORY      "OUT_OF_MEMORY" // a buffer could not be allocated (patch 0011, or std::bad_alloc)

// Thrown by engine code (on any thread); converted to a JS error by the N-API layer.
struct engine_error : std::runtime_error {
    std::string code;
    engine_error(const char * code, const std::string & message) : std::runtime_error(message), code(code) {}
};

// The last warning/error lines llama.cpp logged on this thread, appended to messages as a diagnosis.
std::string engine_log_tail_take();
void        engine_log_install();
