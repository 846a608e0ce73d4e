// JS object over engine_trainer. One job at a time: a second call while one runs rejects with BUSY
// (the TypeScript wrapper queues calls), and dispose() during a job frees the trainer when the job ends.
#pragma once

#include "engine_trainer.h"

#include <napi.h>

class AddonModel;

class AddonTrainer : public Napi::ObjectWrap<AddonTrainer> {
public:
    static Napi::FunctionReference constructor;
    static void init(Napi::Env env, Napi::Object exports);

    explicit AddonTrainer(const Napi::CallbackInfo & info);
    ~AddonTrainer() override;

    engine_trainer *      trainer = nullptr;
    AddonModel *          owner   = nullptr;
    Napi::ObjectReference owner_ref;

private:
    bool busy            = false;
    bool dispose_pending = false;

    Napi::Value step(const Napi::CallbackInfo & info);
    Napi::Value eval_loss(const Napi::CallbackInfo & info);
    Napi::Value eval_logits(const Napi::CallbackInfo & info);
    Napi::Value compute_gradients(const Napi::CallbackInfo & info);
    Napi::Value adapter_tensors(const Napi::CallbackInfo & info);
    Napi::Value save_adapter(const Napi::CallbackInfo & info);
    Napi::Value save_checkpoint(const Napi::CallbackInfo & info);
    Napi::Value load_checkpoint(const Napi::CallbackInfo & info);
    Napi::Value cancel(const Napi::CallbackInfo & info);
    Napi::Value engine_bytes(const Napi::CallbackInfo & info);
    Napi::Value backend_nodes(const Napi::CallbackInfo & info);
    Napi::Value dispose(const Napi::CallbackInfo & info);

    // Checks state and starts a job; returns a rejected promise if disposed or busy.
    Napi::Value run(Napi::Env env, const char * name, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done);
    void        release();
};
