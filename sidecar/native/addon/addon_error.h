// The N-API side of engine errors: an engine_error's code and message as a JavaScript Error with a `code` property.
#pragma once

#include "engine_error.h"

#include <napi.h>

#include <string>

inline Napi::Error engine_error_to_js(Napi::Env env, const char * code, const std::string & message) {
    Napi::Error err = Napi::Error::New(env, message);
    err.Value().Set("code", Napi::String::New(env, code));
    return err;
}
