// AdamW and its learning-rate schedule, on host copies of the adapter tensors (engine_trainer.h says why the optimizer
// is not ggml-opt). Plain C++: no llama.cpp, no N-API.
#include "engine_optimizer.h"

#include "engine_error.h"

#include <algorithm>
#include <cmath>
#include <string>

double engine_lr_at(const engine_optimizer_options & opt, int64_t step) {
    if (step < opt.warmup_steps) {
        return opt.lr * (double) (step + 1) / (double) opt.warmup_steps;
    }
    const double span     = (double) std::max<int64_t>(1, opt.total_steps - opt.warmup_steps);
    const double progress = std::min(1.0, (double) (step - opt.warmup_steps) / span);
    if (opt.schedule == "cosine") {
        return opt.lr * 0.5 * (1.0 + std::cos(M_PI * progress));
    }
    if (opt.schedule == "linear") {
        return opt.lr * (1.0 - progress);
    }
    return opt.lr;
}

double engine_adamw_update(std::vector<engine_param> & params, const engine_optimizer_options & o, int64_t t, double lr) {
    double sum_sq = 0.0;
    for (const auto & p : params) {
        for (float g : p.acc) {
            sum_sq += (double) g*g;
        }
    }
    const double norm = std::sqrt(sum_sq);
    if (!std::isfinite(norm)) {
        throw engine_error(ENGINE_ERR_NON_FINITE, "the gradient norm is not finite at optimizer step " + std::to_string(t) +
                "; training stopped without applying the update");
    }
    const float clip = o.grad_clip > 0.0 ? (float) std::min(1.0, o.grad_clip/(norm + 1e-6)) : 1.0f;
    const float b1 = (float) o.beta1, b2 = (float) o.beta2, eps = (float) o.eps;
    const float bias1 = 1.0f - std::pow(b1, (float) t);
    const float bias2_sqrt = std::sqrt(1.0f - std::pow(b2, (float) t));
    const float step_size = (float) lr / bias1;
    const float decay = 1.0f - (float) (lr*o.weight_decay);

    for (auto & p : params) {
        const size_t n = p.value.size();
        for (size_t j = 0; j < n; ++j) {
            const float g = p.acc[j]*clip;
            p.value[j] *= decay;
            p.m[j] = b1*p.m[j] + (1.0f - b1)*g;
            p.v[j] = b2*p.v[j] + (1.0f - b2)*g*g;
            const float denom = std::sqrt(p.v[j])/bias2_sqrt + eps;
            p.value[j] -= step_size*p.m[j]/denom;
        }
        std::fill(p.acc.begin(), p.acc.end(), 0.0f);
    }
    return norm;
}
