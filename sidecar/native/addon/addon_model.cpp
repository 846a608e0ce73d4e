#include "addon_model.h"

#include "addon_trainer.h"
#include "addon_error.h"
#include "addon_worker.h"
#include "engine_trainer.h"

#include <memory>

Napi::FunctionReference AddonModel::constructor;

void AddonModel::init(Napi::Env env, Napi::Object exports) {
    Napi::Function fn = DefineClass(env, "AddonModel", {
        InstanceMethod("info",          &AddonModel::info),
        InstanceMethod("createTrainer", &AddonModel::create_trainer),
        InstanceMethod("dispose",       &AddonModel::dispose),
    });
    constructor = Napi::Persistent(fn);
    constructor.SuppressDestruct();
    exports.Set("AddonModel", fn);
}

// Constructed only by loadModel, with an External<engine_model>.
AddonModel::AddonModel(const Napi::CallbackInfo & info) : Napi::ObjectWrap<AddonModel>(info) {
    if (info.Length() < 1 || !info[0].IsExternal()) {
        throw Napi::TypeError::New(info.Env(), "AddonModel is created by loadModel()");
    }
    model = info[0].As<Napi::External<engine_model>>().Data();
}

AddonModel::~AddonModel() {
    // collected: no trainer can be alive, each holds a reference to this object
    engine_model_free(model);
    model = nullptr;
}

Napi::Value AddonModel::info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!model) {
        throw engine_error_to_js(env, ENGINE_ERR_DISPOSED, "the model was disposed");
    }
    const engine_model_info & mi = model->info;
    Napi::Object res = Napi::Object::New(env);
    res.Set("arch",     mi.arch);
    res.Set("nLayer",   mi.n_layer);
    res.Set("nEmbd",    mi.n_embd);
    res.Set("nHead",    mi.n_head);
    res.Set("nHeadKv",  mi.n_head_kv);
    res.Set("nFf",      mi.n_ff);
    res.Set("nVocab",   mi.n_vocab);
    res.Set("nParams",  (double) mi.n_params);
    res.Set("nBytes",   (double) mi.n_bytes);
    res.Set("fileType", mi.file_type);
    return res;
}

static std::string get_string(const Napi::Object & o, const char * key, const std::string & fallback) {
    Napi::Value v = o.Get(key);
    return v.IsString() ? v.As<Napi::String>().Utf8Value() : fallback;
}

static double get_number(const Napi::Object & o, const char * key, double fallback) {
    Napi::Value v = o.Get(key);
    return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

Napi::Value AddonModel::create_trainer(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!model || disposed) {
        return addon_reject(env, ENGINE_ERR_DISPOSED, "the model was disposed");
    }
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsObject()) {
        return addon_reject(env, ENGINE_ERR_INVALID_ARGUMENT, "createTrainer(adapter, optimizer) needs two option objects");
    }
    Napi::Object a = info[0].As<Napi::Object>();
    Napi::Object o = info[1].As<Napi::Object>();

    engine_adapter_options adapter;
    adapter.rank    = (int32_t) get_number(a, "rank", 8);
    adapter.alpha   = (float) get_number(a, "alpha", 16);
    adapter.dropout = (float) get_number(a, "dropout", 0);
    adapter.seed    = (uint64_t) get_number(a, "seed", 0);
    Napi::Value targets = a.Get("targetModules");
    if (targets.IsArray()) {
        Napi::Array arr = targets.As<Napi::Array>();
        for (uint32_t i = 0; i < arr.Length(); ++i) {
            Napi::Value v = arr.Get(i);
            adapter.target_modules.push_back(v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string("?"));
        }
        if (adapter.target_modules.empty()) {
            return addon_reject(env, ENGINE_ERR_INVALID_ARGUMENT, "adapter.targetModules is empty; omit it to target all seven modules");
        }
    }

    engine_optimizer_options opt;
    opt.lr           = get_number(o, "lr", opt.lr);
    opt.beta1        = get_number(o, "beta1", opt.beta1);
    opt.beta2        = get_number(o, "beta2", opt.beta2);
    opt.eps          = get_number(o, "eps", opt.eps);
    opt.weight_decay = get_number(o, "weightDecay", opt.weight_decay);
    opt.grad_clip    = get_number(o, "gradClip", opt.grad_clip);
    opt.schedule     = get_string(o, "schedule", opt.schedule);
    opt.warmup_steps = (int64_t) get_number(o, "warmupSteps", 0);
    opt.total_steps  = (int64_t) get_number(o, "totalSteps", 1);
    opt.grad_accum   = (int32_t) get_number(o, "gradAccum", 1);

    engine_model * m = model;
    auto result = std::make_shared<engine_trainer *>(nullptr);
    n_trainers++; // keeps the model alive while the trainer is being created
    Napi::ObjectReference self = Napi::Persistent(Value());
    auto self_ref = std::make_shared<Napi::ObjectReference>(std::move(self));
    return AddonWorker::start(env, "lora_studio_create_trainer",
        [m, adapter, opt, result]() {
            *result = engine_trainer_init(m, adapter, opt);
        },
        [this, result, self_ref](Napi::Env env) -> Napi::Value {
            Napi::Object obj = AddonTrainer::constructor.New({ Napi::External<engine_trainer>::New(env, *result) });
            AddonTrainer * t = AddonTrainer::Unwrap(obj);
            t->owner     = this;
            t->owner_ref = Napi::Persistent(self_ref->Value());
            n_trainers++;
            return obj;
        },
        [this]() {
            n_trainers--;
            free_if_unused();
        });
}

void AddonModel::trainer_released() {
    n_trainers--;
    free_if_unused();
}

void AddonModel::free_if_unused() {
    if (disposed && n_trainers == 0 && model) {
        engine_model_free(model);
        model = nullptr;
    }
}

Napi::Value AddonModel::dispose(const Napi::CallbackInfo & info) {
    disposed = true;
    free_if_unused();
    return info.Env().Undefined();
}
