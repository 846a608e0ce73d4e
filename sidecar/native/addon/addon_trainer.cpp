#include "addon_trainer.h"

#include "addon_model.h"
#include "addon_error.h"
#include "addon_worker.h"

#include <cstring>
#include <memory>

Napi::FunctionReference AddonTrainer::constructor;

void AddonTrainer::init(Napi::Env env, Napi::Object exports) {
    Napi::Function fn = DefineClass(env, "AddonTrainer", {
        InstanceMethod("step",             &AddonTrainer::step),
        InstanceMethod("evalLoss",         &AddonTrainer::eval_loss),
        InstanceMethod("evalLogits",       &AddonTrainer::eval_logits),
        InstanceMethod("computeGradients", &AddonTrainer::compute_gradients),
        InstanceMethod("adapterTensors",   &AddonTrainer::adapter_tensors),
        InstanceMethod("saveAdapter",      &AddonTrainer::save_adapter),
        InstanceMethod("saveCheckpoint",   &AddonTrainer::save_checkpoint),
        InstanceMethod("loadCheckpoint",   &AddonTrainer::load_checkpoint),
        InstanceMethod("cancel",           &AddonTrainer::cancel),
        InstanceMethod("engineBytes",      &AddonTrainer::engine_bytes),
        InstanceMethod("backendNodes",     &AddonTrainer::backend_nodes),
        InstanceMethod("dispose",          &AddonTrainer::dispose),
    });
    constructor = Napi::Persistent(fn);
    constructor.SuppressDestruct();
    exports.Set("AddonTrainer", fn);
}

AddonTrainer::AddonTrainer(const Napi::CallbackInfo & info) : Napi::ObjectWrap<AddonTrainer>(info) {
    if (info.Length() < 1 || !info[0].IsExternal()) {
        throw Napi::TypeError::New(info.Env(), "AddonTrainer is created by AddonModel.createTrainer()");
    }
    trainer = info[0].As<Napi::External<engine_trainer>>().Data();
}

AddonTrainer::~AddonTrainer() {
    // collected: no job is running (a job holds a reference to this object)
    engine_trainer_free(trainer);
    trainer = nullptr;
}

void AddonTrainer::release() {
    engine_trainer_free(trainer);
    trainer = nullptr;
    if (owner) {
        owner->trainer_released();
        owner = nullptr;
        owner_ref.Reset();
    }
}

Napi::Value AddonTrainer::dispose(const Napi::CallbackInfo & info) {
    if (busy) {
        dispose_pending = true;
        if (trainer) {
            trainer->cancel_requested = true;
        }
    } else if (trainer) {
        release();
    }
    return info.Env().Undefined();
}

Napi::Value AddonTrainer::cancel(const Napi::CallbackInfo & info) {
    if (trainer) {
        trainer->cancel_requested = true;
    }
    return info.Env().Undefined();
}

Napi::Value AddonTrainer::engine_bytes(const Napi::CallbackInfo & info) {
    return Napi::Number::New(info.Env(), trainer ? (double) engine_trainer_bytes(trainer) : 0.0);
}

Napi::Value AddonTrainer::run(Napi::Env env, const char * name, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done) {
    if (!trainer || dispose_pending) {
        return addon_reject(env, ENGINE_ERR_DISPOSED, "the trainer was disposed");
    }
    if (busy) {
        return addon_reject(env, ENGINE_ERR_BUSY, "the trainer is already running a job; await it first");
    }
    busy = true;
    auto self_ref = std::make_shared<Napi::ObjectReference>(Napi::Persistent(Value()));
    return AddonWorker::start(env, name, std::move(work), std::move(done), [this, self_ref]() {
        busy = false;
        if (dispose_pending && trainer) {
            release();
        }
        self_ref->Reset();
    });
}

static std::vector<int32_t> get_int32_array(const Napi::Value & v, const char * what) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw engine_error(ENGINE_ERR_INVALID_BATCH, std::string(what) + " must be an Int32Array");
    }
    Napi::Int32Array arr = v.As<Napi::Int32Array>();
    return std::vector<int32_t>(arr.Data(), arr.Data() + arr.ElementLength());
}

// (tokens, positions, seqIds, labels) Int32Arrays -> engine_batch, copied so the worker owns its data
static std::shared_ptr<engine_batch> get_batch(const Napi::CallbackInfo & info) {
    auto batch = std::make_shared<engine_batch>();
    batch->tokens    = get_int32_array(info[0], "tokens");
    batch->positions = get_int32_array(info[1], "positions");
    batch->seq_ids   = get_int32_array(info[2], "seqIds");
    batch->labels    = get_int32_array(info[3], "labels");
    return batch;
}

#define ADDON_GET_BATCH(batch)                                               \
    std::shared_ptr<engine_batch> batch;                                     \
    try {                                                                    \
        batch = get_batch(info);                                             \
    } catch (const engine_error & e) {                                       \
        return addon_reject(info.Env(), e.code.c_str(), e.what());           \
    }

Napi::Value AddonTrainer::step(const Napi::CallbackInfo & info) {
    ADDON_GET_BATCH(batch);
    auto res = std::make_shared<engine_step_result>();
    engine_trainer * t = trainer;
    return run(info.Env(), "lora_studio_step",
        [t, batch, res]() { *res = engine_trainer_step(t, *batch); },
        [res](Napi::Env env) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("loss", res->loss);
            o.Set("gradNorm", res->applied_update ? Napi::Number::New(env, res->grad_norm) : env.Null());
            o.Set("tokens", res->tokens);
            o.Set("trainedTokens", res->trained_tokens);
            o.Set("optimizerStep", (double) res->optimizer_step);
            o.Set("lr", res->lr);
            o.Set("appliedUpdate", res->applied_update);
            return o;
        });
}

Napi::Value AddonTrainer::eval_loss(const Napi::CallbackInfo & info) {
    ADDON_GET_BATCH(batch);
    auto loss = std::make_shared<double>(0.0);
    auto n_labels = std::make_shared<int32_t>(0);
    engine_trainer * t = trainer;
    return run(info.Env(), "lora_studio_eval_loss",
        [t, batch, loss, n_labels]() { *loss = engine_trainer_eval_loss(t, *batch, n_labels.get()); },
        [loss, n_labels](Napi::Env env) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("loss", *loss);
            o.Set("tokens", *n_labels);
            return o;
        });
}

static Napi::Float32Array to_float32_array(Napi::Env env, const std::vector<float> & data) {
    Napi::Float32Array arr = Napi::Float32Array::New(env, data.size());
    std::memcpy(arr.Data(), data.data(), data.size()*sizeof(float));
    return arr;
}

Napi::Value AddonTrainer::eval_logits(const Napi::CallbackInfo & info) {
    ADDON_GET_BATCH(batch);
    auto logits = std::make_shared<std::vector<float>>();
    engine_trainer * t = trainer;
    return run(info.Env(), "lora_studio_eval_logits",
        [t, batch, logits]() { *logits = engine_trainer_eval_logits(t, *batch); },
        [logits](Napi::Env env) -> Napi::Value { return to_float32_array(env, *logits); });
}

// { name: { shape, data } } from each parameter's selected field
static Napi::Object tensors_to_js(Napi::Env env, const engine_trainer * t, std::vector<float> engine_param::* field) {
    Napi::Object res = Napi::Object::New(env);
    for (const auto & p : t->params) {
        Napi::Object entry = Napi::Object::New(env);
        Napi::Array shape = Napi::Array::New(env, p.shape.size());
        for (size_t d = 0; d < p.shape.size(); ++d) {
            shape.Set((uint32_t) d, (double) p.shape[d]);
        }
        entry.Set("shape", shape);
        entry.Set("data", to_float32_array(env, p.*field));
        res.Set(p.name, entry);
    }
    return res;
}

Napi::Value AddonTrainer::compute_gradients(const Napi::CallbackInfo & info) {
    ADDON_GET_BATCH(batch);
    auto loss = std::make_shared<double>(0.0);
    engine_trainer * t = trainer;
    return run(info.Env(), "lora_studio_compute_gradients",
        [t, batch, loss]() { *loss = engine_trainer_compute_gradients(t, *batch); },
        [t, loss](Napi::Env env) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("loss", *loss);
            o.Set("grads", tensors_to_js(env, t, &engine_param::grad));
            return o;
        });
}

Napi::Value AddonTrainer::adapter_tensors(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!trainer || dispose_pending) {
        throw engine_error_to_js(env, ENGINE_ERR_DISPOSED, "the trainer was disposed");
    }
    if (busy) {
        throw engine_error_to_js(env, ENGINE_ERR_BUSY, "the trainer is running a job; await it before reading the adapter");
    }
    return tensors_to_js(env, trainer, &engine_param::value);
}

static Napi::Array node_counts_to_js(Napi::Env env, const std::vector<engine_node_count> & counts, const char * key) {
    Napi::Array arr = Napi::Array::New(env, counts.size());
    for (size_t i = 0; i < counts.size(); ++i) {
        Napi::Object o = Napi::Object::New(env);
        o.Set(key, counts[i].name);
        o.Set("nodes", counts[i].n_nodes);
        arr.Set((uint32_t) i, o);
    }
    return arr;
}

// backendNodes() -> { backends: [{ name, nodes }], cpuOps: [{ op, nodes }] } of the last evaluated graph
Napi::Value AddonTrainer::backend_nodes(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!trainer || dispose_pending) {
        throw engine_error_to_js(env, ENGINE_ERR_DISPOSED, "the trainer was disposed");
    }
    if (busy) {
        throw engine_error_to_js(env, ENGINE_ERR_BUSY, "the trainer is running a job; await it before reading the node counts");
    }
    Napi::Object res = Napi::Object::New(env);
    res.Set("backends", node_counts_to_js(env, trainer->backend_nodes, "name"));
    res.Set("cpuOps", node_counts_to_js(env, trainer->cpu_ops, "op"));
    return res;
}

static bool get_path(const Napi::CallbackInfo & info, size_t i, std::string & out) {
    if (info.Length() <= i || !info[i].IsString() || info[i].As<Napi::String>().Utf8Value().empty()) {
        return false;
    }
    out = info[i].As<Napi::String>().Utf8Value();
    return true;
}

Napi::Value AddonTrainer::save_adapter(const Napi::CallbackInfo & info) {
    std::string path;
    if (!get_path(info, 0, path)) {
        return addon_reject(info.Env(), ENGINE_ERR_INVALID_ARGUMENT, "saveAdapter(path) needs a file path");
    }
    engine_trainer * t = trainer;
    return run(info.Env(), "lora_studio_save_adapter", [t, path]() { engine_trainer_save_adapter(t, path); }, nullptr);
}

Napi::Value AddonTrainer::save_checkpoint(const Napi::CallbackInfo & info) {
    std::string path;
    if (!get_path(info, 0, path) || info.Length() < 2 || !info[1].IsString()) {
        return addon_reject(info.Env(), ENGINE_ERR_INVALID_ARGUMENT, "saveCheckpoint(path, dataCursor) needs a file path and a string");
    }
    const std::string cursor = info[1].As<Napi::String>().Utf8Value();
    engine_trainer * t = trainer;
    return run(info.Env(), "lora_studio_save_checkpoint", [t, path, cursor]() { engine_trainer_save_checkpoint(t, path, cursor); }, nullptr);
}

Napi::Value AddonTrainer::load_checkpoint(const Napi::CallbackInfo & info) {
    std::string path;
    if (!get_path(info, 0, path)) {
        return addon_reject(info.Env(), ENGINE_ERR_INVALID_ARGUMENT, "loadCheckpoint(path) needs a file path");
    }
    engine_trainer * t = trainer;
    auto cursor = std::make_shared<std::string>();
    return run(info.Env(), "lora_studio_load_checkpoint",
        [t, path, cursor]() { *cursor = engine_trainer_load_checkpoint(t, path); },
        [t, cursor](Napi::Env env) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("step", (double) t->optimizer_step);
            o.Set("dataCursor", *cursor);
            return o;
        });
}
