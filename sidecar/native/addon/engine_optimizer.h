// The optimizer of the LoRA trainer: AdamW as torch.optim.AdamW (decoupled weight decay, bias-corrected moments) after
// torch.nn.utils.clip_grad_norm_ over all adapter tensors, with a linear warmup then a cosine, linear or constant
// schedule (the TypeScript twin is sidecar/src/engine/schedule.ts; the PyTorch oracle checks both).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct engine_optimizer_options {
    double      lr           = 1e-4;
    double      beta1        = 0.9;
    double      beta2        = 0.999;
    double      eps          = 1e-8;
    double      weight_decay = 0.0;
    double      grad_clip    = 0.0; // 0 = off
    std::string schedule     = "constant"; // cosine | linear | constant
    int64_t     warmup_steps = 0;
    int64_t     total_steps  = 1;
    int32_t     grad_accum   = 1;
};

struct engine_param {
    std::string          name;  // GGUF adapter tensor name, e.g. blk.0.attn_q.weight.lora_a
    std::vector<int64_t> shape; // numpy order (row-major): [ne1, ne0]
    struct ggml_tensor * tensor = nullptr;
    std::vector<float>   value; // host copy of the tensor
    std::vector<float>   m, v;  // AdamW moments
    std::vector<float>   acc;   // gradient accumulated over the micro-batches of the current optimizer step
    std::vector<float>   grad;  // scratch: gradient of the last micro-batch
};

// The learning rate of update number `step` (0-based): linear warmup over warmup_steps, then the schedule.
double engine_lr_at(const engine_optimizer_options & opt, int64_t step);

// Applies update number t (1-based) with learning rate lr to every param's value from its acc, clearing acc. Returns
// the global gradient norm before clipping; throws engine_error NON_FINITE (nothing applied) when it is not finite.
double engine_adamw_update(std::vector<engine_param> & params, const engine_optimizer_options & opt, int64_t t, double lr);
