#include "engine_error.h"

#include "llama.h"

#include <cstdio>
#include <cstdlib>

// llama.cpp reports why a load or an allocation failed only through its log. Keep the last warning and
// error lines of the calling thread so the error thrown to JavaScript can say why.
static thread_local std::string g_log_tail;
static bool g_log_verbose = false;

static void engine_log_callback(ggml_log_level level, const char * text, void * /*user_data*/) {
    if (g_log_verbose) {
        fputs(text, stderr);
    }
    if (level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR || (level == GGML_LOG_LEVEL_CONT && !g_log_tail.empty())) {
        g_log_tail += text;
        if (g_log_tail.size() > 2000) {
            g_log_tail.erase(0, g_log_tail.size() - 2000);
        }
    }
}

std::string engine_log_tail_take() {
    std::string res;
    res.swap(g_log_tail);
    while (!res.empty() && (res.back() == '\n' || res.back() == ' ')) {
        res.pop_back();
    }
    return res;
}

void engine_log_install() {
    const char * env = getenv("LORA_STUDIO_ENGINE_LOG");
    g_log_verbose = env && env[0] == '1';
    llama_log_set(engine_log_callback, nullptr);
}
