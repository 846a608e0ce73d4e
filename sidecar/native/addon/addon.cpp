// lora_studio_engine: the N-API addon over the patched llama.cpp (sidecar/native/patches). One C++ class per
// JS object (AddonModel, AddonTrainer); slow work runs in AddonWorker off the main thread and resolves a
// promise; errors reject with an Error carrying a stable `code`. The typed surface is sidecar/src/engine/.
#include "addon_model.h"
#include "addon_trainer.h"
#include "addon_worker.h"
#include "engine_error.h"
#include "engine_model.h"

#include "ggml-backend.h"
#include "llama.h"

#include <napi.h>

#include <dlfcn.h>
#include <memory>
#include <thread>

#ifndef LORA_STUDIO_ENGINE_VERSION
#define LORA_STUDIO_ENGINE_VERSION "dev"
#endif

#ifndef LORA_STUDIO_CUDA_BUILD
#define LORA_STUDIO_CUDA_BUILD 0
#endif

// Whether the NVIDIA driver library can be loaded, whatever this build supports: it tells "no driver" apart from
// "built without CUDA" and "driver present, no usable device" in the start-up message.
static bool nvidia_driver_present() {
    void * lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!lib) {
        return false;
    }
    dlclose(lib);
    return true;
}

static Napi::Value capabilities(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object res = Napi::Object::New(env);
    Napi::Array devices = Napi::Array::New(env);
    bool cuda = false;
    for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        if (ggml_backend_dev_type(dev) != GGML_BACKEND_DEVICE_TYPE_GPU) {
            continue;
        }
        cuda = true;
        size_t free_bytes = 0, total_bytes = 0;
        ggml_backend_dev_memory(dev, &free_bytes, &total_bytes);
        Napi::Object d = Napi::Object::New(env);
        d.Set("name", ggml_backend_dev_description(dev));
        d.Set("freeBytes", (double) free_bytes);
        d.Set("totalBytes", (double) total_bytes);
        devices.Set(devices.Length(), d);
    }
    res.Set("cpu", true);
    res.Set("cuda", cuda);
    res.Set("cudaBuilt", (bool) LORA_STUDIO_CUDA_BUILD);
    res.Set("nvidiaDriver", nvidia_driver_present());
    res.Set("devices", devices);
    return res;
}

// loadModel(path, threads, nCtx, useGpu = true) -> Promise<AddonModel>
static Napi::Value load_model(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber()) {
        return addon_reject(env, ENGINE_ERR_INVALID_ARGUMENT, "loadModel(path, threads, nCtx) needs a path and two numbers");
    }
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    const int32_t threads = info[1].As<Napi::Number>().Int32Value();
    const int32_t n_ctx = info[2].As<Napi::Number>().Int32Value();
    const bool use_gpu = info.Length() < 4 || !info[3].IsBoolean() || info[3].As<Napi::Boolean>().Value();
    auto result = std::make_shared<engine_model *>(nullptr);
    return AddonWorker::start(env, "lora_studio_load_model",
        [path, threads, n_ctx, use_gpu, result]() { *result = engine_model_load(path, threads, n_ctx, use_gpu); },
        [result](Napi::Env env) -> Napi::Value {
            engine_model * m = *result;
            *result = nullptr;
            return AddonModel::constructor.New({ Napi::External<engine_model>::New(env, m) });
        });
}

// quantizeModel(inPath, outPath, type, threads) -> Promise<void>
static Napi::Value quantize_model(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsString() || !info[1].IsString() || !info[2].IsString() || !info[3].IsNumber()) {
        return addon_reject(env, ENGINE_ERR_INVALID_ARGUMENT, "quantizeModel(inPath, outPath, type, threads) needs three strings and a number");
    }
    const std::string in_path = info[0].As<Napi::String>().Utf8Value();
    const std::string out_path = info[1].As<Napi::String>().Utf8Value();
    const std::string type = info[2].As<Napi::String>().Utf8Value();
    const int32_t threads = info[3].As<Napi::Number>().Int32Value();
    return AddonWorker::start(env, "lora_studio_quantize_model",
        [in_path, out_path, type, threads]() { engine_model_quantize(in_path, out_path, type, threads); }, nullptr);
}

static Napi::Object addon_init(Napi::Env env, Napi::Object exports) {
    engine_log_install();
    llama_backend_init();
    AddonModel::init(env, exports);
    AddonTrainer::init(env, exports);
    exports.Set("version", Napi::String::New(env, LORA_STUDIO_ENGINE_VERSION));
    exports.Set("capabilities", Napi::Function::New(env, capabilities));
    exports.Set("loadModel", Napi::Function::New(env, load_model));
    exports.Set("quantizeModel", Napi::Function::New(env, quantize_model));
    Napi::Array archs = Napi::Array::New(env);
    for (const auto & arch : engine_trainable_archs()) {
        archs.Set(archs.Length(), Napi::String::New(env, arch));
    }
    exports.Set("trainableArchitectures", archs);
    return exports;
}

NODE_API_MODULE(lora_studio_engine, addon_init)
