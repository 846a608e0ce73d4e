// JS object over engine_model: `info()`, `createTrainer(adapter, optimizer)`, `dispose()`.
// The llama_model is freed once the model is disposed (or collected) and its last trainer is gone.
#pragma once

#include "engine_model.h"

#include <napi.h>

class AddonModel : public Napi::ObjectWrap<AddonModel> {
public:
    static Napi::FunctionReference constructor;
    static void init(Napi::Env env, Napi::Object exports);

    explicit AddonModel(const Napi::CallbackInfo & info);
    ~AddonModel() override;

    engine_model * model = nullptr;
    int32_t n_trainers   = 0;
    bool    disposed     = false;

    void trainer_released();

private:
    Napi::Value info(const Napi::CallbackInfo & info);
    Napi::Value create_trainer(const Napi::CallbackInfo & info);
    Napi::Value dispose(const Napi::CallbackInfo & info);
    void        free_if_unused();
};
