// Errors of the engine addon. Every failure reaches JavaScript as an Error with a stable `code`
// (mapped to typed classes in sidecar/src/engine/errors.ts); nothing here may exit or abort.
#pragma once

#include <napi.h>

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

// Thrown by engine code (on any thread); converted to a JS error by the N-API layer.
struct engine_error : std::runtime_error {
    std::string code;
    engine_error(const char * code, const std::string & message) : std::runtime_error(message), code(code) {}
};

Napi::Error engine_error_to_js(Napi::Env env, const char * code, const std::string & message);

// The last warning/error lines llama.cpp logged on this thread, appended to messages as a diagnosis.
std::string engine_log_tail_take();
void        engine_log_install();
