#include "engine_trainer.h"

#include "engine_error.h"
#include "engine_model.h"

#include "ggml.h"
#include "ggml-backend.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <unistd.h>

// Maximum distinct sequences packed into one micro-batch.
static const int32_t ENGINE_MAX_SEQS = 64;

// The GGUF tensor a LoRA target selects (mirrors targetTensors / tensorForTarget in sidecar/src/engine/architectures.ts).
// Phi-3 fuses q/k/v into attn_qkv and gate/up into ffn_up (2 n_ff wide): any of q/k/v selects the one fused adapter,
// and so does gate or up; the fused names themselves are accepted only on such models.
static const std::map<std::string, std::string> k_module_suffix = {
    { "attn_q",   ".attn_q.weight"      },
    { "attn_k",   ".attn_k.weight"      },
    { "attn_v",   ".attn_v.weight"      },
    { "attn_o",   ".attn_output.weight" },
    { "ffn_gate", ".ffn_gate.weight"    },
    { "ffn_up",   ".ffn_up.weight"      },
    { "ffn_down", ".ffn_down.weight"    },
};
static const std::map<std::string, std::string> k_module_suffix_fused = {
    { "attn_q",      ".attn_qkv.weight"    },
    { "attn_k",      ".attn_qkv.weight"    },
    { "attn_v",      ".attn_qkv.weight"    },
    { "attn_qkv",    ".attn_qkv.weight"    },
    { "attn_o",      ".attn_output.weight" },
    { "ffn_gate",    ".ffn_up.weight"      },
    { "ffn_up",      ".ffn_up.weight"      },
    { "ffn_gate_up", ".ffn_up.weight"      },
    { "ffn_down",    ".ffn_down.weight"    },
};

static std::string module_suffix(const std::string & arch, const std::string & module) {
    const bool fused = engine_arch_has_fused_projections(arch);
    const auto & table = fused ? k_module_suffix_fused : k_module_suffix;
    auto it = table.find(module);
    if (it != table.end()) {
        return it->second;
    }
    if (module == "attn_qkv" || module == "ffn_gate_up") {
        throw engine_error(ENGINE_ERR_INVALID_ARGUMENT, "'" + module + "' is a fused target, and " + arch + " models have separate "
                "projections: use " + (module == "attn_qkv" ? "attn_q, attn_k and attn_v" : "ffn_gate and ffn_up"));
    }
    throw engine_error(ENGINE_ERR_INVALID_ARGUMENT, "unknown target module '" + module + "' (use attn_q, attn_k, attn_v, attn_o, "
            "ffn_gate, ffn_up, ffn_down" + std::string(fused ? ", or the fused attn_qkv, ffn_gate_up" : "") + ")");
}

static bool ends_with(const std::string & s, const std::string & suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

static bool is_target_weight(const std::string & name, const std::set<std::string> & suffixes) {
    if (name.rfind("blk.", 0) != 0) {
        return false;
    }
    for (const auto & suffix : suffixes) {
        if (ends_with(name, suffix)) {
            return true;
        }
    }
    return false;
}

static bool target_filter(const char * name, void * user_data) {
    return is_target_weight(name, *static_cast<const std::set<std::string> *>(user_data));
}

static bool abort_if_cancelled(void * user_data) {
    return static_cast<engine_trainer *>(user_data)->cancel_requested.load();
}

static void check_options(const engine_trainer * trainer) {
    const auto & a = trainer->adapter_opts;
    const auto & o = trainer->opt;
    if (a.rank < 1) {
        throw engine_error(ENGINE_ERR_INVALID_ARGUMENT, "adapter.rank must be at least 1, got " + std::to_string(a.rank));
    }
    if (!(std::isfinite(a.alpha) && a.alpha > 0.0f)) {
        throw engine_error(ENGINE_ERR_INVALID_ARGUMENT, "adapter.alpha must be a positive number");
    }
    if (!(a.dropout >= 0.0f && a.dropout < 1.0f)) {
        throw engine_error(ENGINE_ERR_INVALID_ARGUMENT, "adapter.dropout must be in [0, 1)");
    }
    if (!(o.lr > 0.0 && std::isfinite(o.lr)) || !(o.beta1 >= 0.0 && o.beta1 < 1.0) || !(o.beta2 >= 0.0 && o.beta2 < 1.0) ||
            !(o.eps > 0.0) || !(o.weight_decay >= 0.0) || !(o.grad_clip >= 0.0) || o.grad_accum < 1 || o.total_steps < 1 ||
            o.warmup_steps < 0 || (o.schedule != "cosine" && o.schedule != "linear" && o.schedule != "constant")) {
        throw engine_error(ENGINE_ERR_INVALID_ARGUMENT, "invalid optimizer options (lr > 0, 0 <= beta < 1, eps > 0, weightDecay >= 0, "
                "gradClip >= 0, gradAccum >= 1, totalSteps >= 1, warmupSteps >= 0, schedule cosine|linear|constant)");
    }
}

engine_trainer * engine_trainer_init(engine_model * model, const engine_adapter_options & adapter_opts, const engine_optimizer_options & opt) {
    std::unique_ptr<engine_trainer> trainer(new engine_trainer());
    trainer->model        = model;
    trainer->adapter_opts = adapter_opts;
    trainer->opt          = opt;
    trainer->rng_state    = adapter_opts.seed;
    check_options(trainer.get());

    std::vector<std::string> modules = adapter_opts.target_modules;
    if (modules.empty()) {
        modules = { "attn_q", "attn_k", "attn_v", "attn_o", "ffn_gate", "ffn_up", "ffn_down" };
    }
    std::set<std::string> suffixes;
    for (const auto & module : modules) {
        const std::string suffix = module_suffix(model->info.arch, module);
        bool found = false;
        for (const auto & w : model->weights) {
            if (is_target_weight(w.first, { suffix })) {
                found = true;
                if (adapter_opts.rank > w.second[0] || adapter_opts.rank > w.second[1]) {
                    throw engine_error(ENGINE_ERR_INVALID_ARGUMENT, "adapter.rank " + std::to_string(adapter_opts.rank) + " exceeds the width of " +
                            w.first + " [" + std::to_string(w.second[0]) + " x " + std::to_string(w.second[1]) + "]");
                }
            }
        }
        if (!found) {
            throw engine_error(ENGINE_ERR_TARGET_NOT_FOUND, "target module '" + module + "' is not in this " + model->info.arch +
                    " model (no blk.*" + suffix + " tensor)");
        }
        suffixes.insert(suffix);
    }

    llama_context_params cparams = llama_context_default_params();
    cparams.n_ctx           = (uint32_t) model->n_ctx;
    cparams.n_batch         = (uint32_t) model->n_ctx; // one micro-batch = one ubatch
    cparams.n_ubatch        = (uint32_t) model->n_ctx;
    cparams.n_seq_max       = ENGINE_MAX_SEQS;
    // llama.cpp reserves room for at least n_seq_max outputs per ubatch and asserts that this fits n_outputs_max,
    // which defaults to n_batch: a context shorter than ENGINE_MAX_SEQS tokens would abort on its first step.
    cparams.n_outputs_max   = (uint32_t) std::max<int64_t>(model->n_ctx, ENGINE_MAX_SEQS);
    cparams.kv_unified      = true;  // packed sequences share one KV stream
    cparams.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED; // FLASH_ATTN_EXT has no backward pass
    cparams.n_threads       = model->n_threads;
    cparams.n_threads_batch = model->n_threads;
    cparams.no_perf         = true;
    engine_log_tail_take();
    trainer->ctx = llama_init_from_model(model->model, cparams);
    if (!trainer->ctx) {
        throw engine_error(ENGINE_ERR_INTERNAL, "could not create the training context: " + engine_log_tail_take());
    }
    llama_set_abort_callback(trainer->ctx, abort_if_cancelled, trainer.get());

    trainer->adapter = llama_adapter_lora_init_empty(model->model, adapter_opts.rank, adapter_opts.alpha, target_filter, &suffixes, adapter_opts.seed);
    if (!trainer->adapter) {
        const std::string why = engine_log_tail_take();
        llama_free(trainer->ctx);
        throw engine_error(ENGINE_ERR_INVALID_ARGUMENT, "could not create the LoRA adapter: " + why);
    }
    if (llama_lora_train_init(trainer->ctx, trainer->adapter) != 0) {
        const std::string why = engine_log_tail_take();
        engine_trainer_free(trainer.release());
        throw engine_error(ENGINE_ERR_INTERNAL, "could not prepare the context for training: " + why);
    }

    for (int32_t i = 0; i < llama_adapter_lora_n_tensors(trainer->adapter); ++i) {
        ggml_tensor * t = llama_adapter_lora_get_tensor(trainer->adapter, i);
        engine_param p;
        p.name   = ggml_get_name(t);
        p.shape  = { t->ne[1], t->ne[0] };
        p.tensor = t;
        const size_t n = (size_t) ggml_nelements(t);
        p.value.resize(n);
        ggml_backend_tensor_get(t, p.value.data(), 0, n*sizeof(float));
        p.m.assign(n, 0.0f);
        p.v.assign(n, 0.0f);
        p.acc.assign(n, 0.0f);
        p.grad.assign(n, 0.0f);
        trainer->params.push_back(std::move(p));
    }
    return trainer.release();
}

void engine_trainer_free(engine_trainer * trainer) {
    if (!trainer) {
        return;
    }
    if (trainer->ctx) {
        llama_free(trainer->ctx);
    }
    if (trainer->adapter) {
        llama_adapter_lora_free(trainer->adapter);
    }
    delete trainer;
}

void engine_batch_check(const engine_trainer * trainer, const engine_batch & batch, bool need_labels) {
    const size_t n = batch.tokens.size();
    if (n == 0) {
        throw engine_error(ENGINE_ERR_INVALID_BATCH, "the micro-batch is empty");
    }
    if (batch.positions.size() != n || batch.seq_ids.size() != n || batch.labels.size() != n) {
        throw engine_error(ENGINE_ERR_INVALID_BATCH, "tokens, positions, seqIds and labels must have the same length (" +
                std::to_string(n) + ", " + std::to_string(batch.positions.size()) + ", " + std::to_string(batch.seq_ids.size()) + ", " +
                std::to_string(batch.labels.size()) + ")");
    }
    if ((int64_t) n > trainer->model->n_ctx) {
        throw engine_error(ENGINE_ERR_INVALID_BATCH, "the micro-batch has " + std::to_string(n) + " tokens, more than nCtx = " +
                std::to_string(trainer->model->n_ctx) + " given to loadModel");
    }
    const int32_t n_vocab = trainer->model->info.n_vocab;
    std::map<int32_t, int32_t> next_pos;
    int32_t n_labels = 0;
    for (size_t i = 0; i < n; ++i) {
        const std::string at = " at index " + std::to_string(i);
        if (batch.tokens[i] < 0 || batch.tokens[i] >= n_vocab) {
            throw engine_error(ENGINE_ERR_INVALID_BATCH, "token " + std::to_string(batch.tokens[i]) + at + " is outside the vocabulary [0, " + std::to_string(n_vocab) + ")");
        }
        if (batch.labels[i] < -1 || batch.labels[i] >= n_vocab) {
            throw engine_error(ENGINE_ERR_INVALID_BATCH, "label " + std::to_string(batch.labels[i]) + at + " must be -1 (masked) or a token id below " + std::to_string(n_vocab));
        }
        if (batch.seq_ids[i] < 0 || batch.seq_ids[i] >= ENGINE_MAX_SEQS) {
            throw engine_error(ENGINE_ERR_INVALID_BATCH, "seqId " + std::to_string(batch.seq_ids[i]) + at + " must be in [0, " + std::to_string(ENGINE_MAX_SEQS) + ")");
        }
        auto it = next_pos.find(batch.seq_ids[i]);
        if (batch.positions[i] < 0 || (it != next_pos.end() && batch.positions[i] != it->second)) {
            throw engine_error(ENGINE_ERR_INVALID_BATCH, "position " + std::to_string(batch.positions[i]) + at +
                    " must continue its sequence (positions of one seqId are consecutive)");
        }
        next_pos[batch.seq_ids[i]] = batch.positions[i] + 1;
        n_labels += batch.labels[i] >= 0;
    }
    if (need_labels && n_labels == 0) {
        throw engine_error(ENGINE_ERR_INVALID_BATCH, "the micro-batch has no labelled token (every label is -1)");
    }
}

// Copies llama_lora_train_node_counts into the trainer: its strings live only until the next evaluation.
static void read_node_counts(engine_trainer * trainer) {
    for (bool cpu_ops : { false, true }) {
        std::vector<llama_lora_train_node_count> counts((size_t) llama_lora_train_node_counts(trainer->ctx, cpu_ops, nullptr, 0));
        llama_lora_train_node_counts(trainer->ctx, cpu_ops, counts.data(), (int32_t) counts.size());
        auto & dst = cpu_ops ? trainer->cpu_ops : trainer->backend_nodes;
        dst.clear();
        for (const auto & c : counts) {
            dst.push_back({ c.name, c.n_nodes });
        }
    }
}

// splitmix64 step of the trainer's generator: one dropout seed per training step
static uint64_t next_dropout_seed(uint64_t & state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Runs the training graph on one micro-batch. Throws CANCELLED when cancel() interrupted it.
// Dropout applies to training steps only (train_step), never to evaluations or computeGradients.
// dropout_rng: the generator state a training step draws its mask seed from (nullptr: no dropout).
static double run_eval(engine_trainer * trainer, const engine_batch & batch, bool with_grads, float * logits, int32_t * n_labels,
        uint64_t * dropout_rng = nullptr) {
    if (dropout_rng && trainer->adapter_opts.dropout > 0.0f) {
        llama_lora_train_set_dropout(trainer->ctx, trainer->adapter_opts.dropout, next_dropout_seed(*dropout_rng));
    } else {
        llama_lora_train_set_dropout(trainer->ctx, 0.0f, 0);
    }
    const int32_t n = (int32_t) batch.tokens.size();
    llama_batch lb = llama_batch_init(n, 0, 1);
    for (int32_t i = 0; i < n; ++i) {
        lb.token[i]     = batch.tokens[i];
        lb.pos[i]       = batch.positions[i];
        lb.n_seq_id[i]  = 1;
        lb.seq_id[i][0] = batch.seq_ids[i];
        lb.logits[i]    = 0;
    }
    lb.n_tokens = n;

    std::vector<float *> grads;
    for (auto & p : trainer->params) {
        grads.push_back(p.grad.data());
    }
    float loss = 0.0f;
    engine_log_tail_take();
    const int32_t rc = llama_lora_train_eval(trainer->ctx, lb, batch.labels.data(), with_grads ? grads.data() : nullptr, logits, &loss, n_labels);
    llama_batch_free(lb);
    read_node_counts(trainer);
    if (rc != 0) {
        if (trainer->cancel_requested.exchange(false)) {
            throw engine_error(ENGINE_ERR_CANCELLED, "training was cancelled");
        }
        const std::string why = engine_log_tail_take();
        throw engine_error(rc == -9 || rc == -8 ? ENGINE_ERR_INTERNAL : ENGINE_ERR_INVALID_BATCH,
                "llama.cpp rejected the micro-batch (code " + std::to_string(rc) + ")" + (why.empty() ? "" : ": " + why));
    }
    return loss;
}

static void throw_if_cancelled(engine_trainer * trainer) {
    if (trainer->cancel_requested.exchange(false)) {
        throw engine_error(ENGINE_ERR_CANCELLED, "training was cancelled");
    }
}

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

// AdamW as torch.optim.AdamW (decoupled weight decay, bias-corrected moments) after
// torch.nn.utils.clip_grad_norm_ over all adapter tensors. Returns the norm before clipping.
static double apply_update(engine_trainer * trainer, double lr) {
    double sum_sq = 0.0;
    for (const auto & p : trainer->params) {
        for (float g : p.acc) {
            sum_sq += (double) g*g;
        }
    }
    const double norm = std::sqrt(sum_sq);
    if (!std::isfinite(norm)) {
        trainer->diverged = true;
        throw engine_error(ENGINE_ERR_NON_FINITE, "the gradient norm is not finite at optimizer step " + std::to_string(trainer->optimizer_step + 1) +
                "; training stopped without applying the update");
    }
    const auto & o = trainer->opt;
    const float clip = o.grad_clip > 0.0 ? (float) std::min(1.0, o.grad_clip/(norm + 1e-6)) : 1.0f;
    const int64_t t = trainer->optimizer_step + 1;
    const float b1 = (float) o.beta1, b2 = (float) o.beta2, eps = (float) o.eps;
    const float bias1 = 1.0f - std::pow(b1, (float) t);
    const float bias2_sqrt = std::sqrt(1.0f - std::pow(b2, (float) t));
    const float step_size = (float) lr / bias1;
    const float decay = 1.0f - (float) (lr*o.weight_decay);

    for (auto & p : trainer->params) {
        const size_t n = p.value.size();
        for (size_t j = 0; j < n; ++j) {
            const float g = p.acc[j]*clip;
            p.value[j] *= decay;
            p.m[j] = b1*p.m[j] + (1.0f - b1)*g;
            p.v[j] = b2*p.v[j] + (1.0f - b2)*g*g;
            const float denom = std::sqrt(p.v[j])/bias2_sqrt + eps;
            p.value[j] -= step_size*p.m[j]/denom;
        }
        ggml_backend_tensor_set(p.tensor, p.value.data(), 0, n*sizeof(float));
        std::fill(p.acc.begin(), p.acc.end(), 0.0f);
    }
    trainer->optimizer_step = t;
    trainer->micro_in_accum = 0;
    return norm;
}

engine_step_result engine_trainer_step(engine_trainer * trainer, const engine_batch & batch) {
    engine_batch_check(trainer, batch, true);
    throw_if_cancelled(trainer);

    engine_step_result res;
    // The generator advances only when the step counts: a cancelled or failed micro-batch leaves rng_state as it
    // was, so the checkpoint written after a cancel resumes with the masks of an uninterrupted run.
    uint64_t rng_after = trainer->rng_state;
    const double loss = run_eval(trainer, batch, true, nullptr, &res.trained_tokens, &rng_after);
    throw_if_cancelled(trainer);
    if (!std::isfinite(loss)) {
        trainer->diverged = true;
        throw engine_error(ENGINE_ERR_NON_FINITE, "the loss is " + std::string(std::isnan(loss) ? "NaN" : "infinite") +
                " at optimizer step " + std::to_string(trainer->optimizer_step + 1) + "; training stopped without applying the update");
    }
    for (const auto & p : trainer->params) {
        for (float g : p.grad) {
            if (!std::isfinite(g)) {
                trainer->diverged = true;
                throw engine_error(ENGINE_ERR_NON_FINITE, "a gradient of " + p.name + " is not finite at optimizer step " +
                        std::to_string(trainer->optimizer_step + 1) + "; training stopped without applying the update");
            }
        }
    }
    // Accumulated gradient = mean of the micro-batch gradients (each micro-batch's loss is its own mean).
    const float scale = 1.0f/(float) trainer->opt.grad_accum;
    for (auto & p : trainer->params) {
        for (size_t j = 0; j < p.acc.size(); ++j) {
            p.acc[j] += p.grad[j]*scale;
        }
    }
    trainer->micro_in_accum++;
    trainer->rng_state = rng_after;

    res.loss   = loss;
    res.tokens = (int32_t) batch.tokens.size();
    if (trainer->micro_in_accum >= trainer->opt.grad_accum) {
        res.lr             = engine_lr_at(trainer->opt, trainer->optimizer_step);
        res.grad_norm      = apply_update(trainer, res.lr);
        res.applied_update = true;
    } else {
        res.lr = engine_lr_at(trainer->opt, trainer->optimizer_step);
    }
    res.optimizer_step = trainer->optimizer_step;
    return res;
}

double engine_trainer_eval_loss(engine_trainer * trainer, const engine_batch & batch, int32_t * n_labels) {
    engine_batch_check(trainer, batch, true);
    throw_if_cancelled(trainer);
    return run_eval(trainer, batch, false, nullptr, n_labels);
}

std::vector<float> engine_trainer_eval_logits(engine_trainer * trainer, const engine_batch & batch) {
    engine_batch_check(trainer, batch, false);
    throw_if_cancelled(trainer);
    std::vector<float> logits((size_t) batch.tokens.size()*trainer->model->info.n_vocab);
    run_eval(trainer, batch, false, logits.data(), nullptr);
    return logits;
}

double engine_trainer_compute_gradients(engine_trainer * trainer, const engine_batch & batch) {
    engine_batch_check(trainer, batch, true);
    throw_if_cancelled(trainer);
    int32_t n_labels = 0;
    return run_eval(trainer, batch, true, nullptr, &n_labels);
}

static void rename_into_place(const std::string & tmp_path, const std::string & path) {
    std::error_code ec;
    std::filesystem::rename(tmp_path, path, ec);
    if (ec) {
        std::remove(tmp_path.c_str());
        throw engine_error(ENGINE_ERR_IO, "could not write '" + path + "': " + ec.message());
    }
}

static void throw_if_diverged(const engine_trainer * trainer, const std::string & path) {
    if (trainer->diverged) {
        throw engine_error(ENGINE_ERR_NON_FINITE, "training diverged (non-finite loss or gradient); refusing to write '" + path +
                "'. Load a checkpoint or start again with a lower learning rate");
    }
}

void engine_trainer_save_adapter(engine_trainer * trainer, const std::string & path) {
    throw_if_diverged(trainer, path);
    for (const auto & p : trainer->params) {
        for (float x : p.value) {
            if (!std::isfinite(x)) {
                throw engine_error(ENGINE_ERR_NON_FINITE, "adapter tensor " + p.name + " holds a non-finite value; refusing to save it");
            }
        }
    }
    const std::string tmp_path = path + ".tmp-" + std::to_string(getpid());
    engine_log_tail_take();
    if (llama_adapter_lora_save(trainer->adapter, tmp_path.c_str()) != 0) {
        std::remove(tmp_path.c_str());
        throw engine_error(ENGINE_ERR_IO, "could not write the adapter '" + path + "': " + engine_log_tail_take());
    }
    rename_into_place(tmp_path, path);
}

//
// Checkpoint file, little-endian (llm.c style: magic number and version first):
//   u32 magic 'LSCK', u32 version,
//   u64 optimizer_step, u32 micro_in_accum, u64 rng_state, u32 cursor_len, cursor bytes, u32 n_tensors,
//   per tensor: u32 name_len, name, u32 n_dims, i64 shape[n_dims], f32 value[n], f32 m[n], f32 v[n], f32 acc[n]
//   u64 FNV-1a hash of every preceding byte
//
static const uint32_t CHECKPOINT_MAGIC   = 0x4B43534C; // "LSCK"
static const uint32_t CHECKPOINT_VERSION = 1;

static uint64_t fnv1a(const std::string & bytes) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : bytes) {
        h = (h ^ c) * 0x100000001b3ull;
    }
    return h;
}

template <typename T> static void put(std::string & out, const T & v) {
    out.append(reinterpret_cast<const char *>(&v), sizeof(T));
}

static void put_floats(std::string & out, const std::vector<float> & v) {
    out.append(reinterpret_cast<const char *>(v.data()), v.size()*sizeof(float));
}

void engine_trainer_save_checkpoint(engine_trainer * trainer, const std::string & path, const std::string & data_cursor) {
    throw_if_diverged(trainer, path);
    std::string out;
    put(out, CHECKPOINT_MAGIC);
    put(out, CHECKPOINT_VERSION);
    put(out, (uint64_t) trainer->optimizer_step);
    put(out, (uint32_t) trainer->micro_in_accum);
    put(out, trainer->rng_state);
    put(out, (uint32_t) data_cursor.size());
    out += data_cursor;
    put(out, (uint32_t) trainer->params.size());
    for (const auto & p : trainer->params) {
        put(out, (uint32_t) p.name.size());
        out += p.name;
        put(out, (uint32_t) p.shape.size());
        for (int64_t d : p.shape) {
            put(out, d);
        }
        put_floats(out, p.value);
        put_floats(out, p.m);
        put_floats(out, p.v);
        put_floats(out, p.acc);
    }
    put(out, fnv1a(out));

    const std::string tmp_path = path + ".tmp-" + std::to_string(getpid());
    {
        std::ofstream f(tmp_path, std::ios::binary | std::ios::trunc);
        f.write(out.data(), (std::streamsize) out.size());
        f.flush();
        if (!f) {
            std::remove(tmp_path.c_str());
            throw engine_error(ENGINE_ERR_IO, "could not write the checkpoint '" + path + "'");
        }
    }
    rename_into_place(tmp_path, path);
}

struct checkpoint_reader {
    const std::string & bytes;
    const std::string & path;
    size_t pos = 0;

    void need(size_t n) {
        if (pos + n > bytes.size()) {
            throw engine_error(ENGINE_ERR_INVALID_CHECKPOINT, "checkpoint '" + path + "' is truncated at byte " + std::to_string(pos));
        }
    }
    template <typename T> T get() {
        need(sizeof(T));
        T v;
        std::memcpy(&v, bytes.data() + pos, sizeof(T));
        pos += sizeof(T);
        return v;
    }
    std::string get_str(size_t n) {
        need(n);
        std::string s = bytes.substr(pos, n);
        pos += n;
        return s;
    }
    void get_floats(std::vector<float> & v) {
        need(v.size()*sizeof(float));
        std::memcpy(v.data(), bytes.data() + pos, v.size()*sizeof(float));
        pos += v.size()*sizeof(float);
    }
};

std::string engine_trainer_load_checkpoint(engine_trainer * trainer, const std::string & path) {
    std::string bytes;
    {
        std::ifstream f(path, std::ios::binary);
        if (!f) {
            throw engine_error(ENGINE_ERR_IO, "cannot read checkpoint '" + path + "'");
        }
        bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    if (bytes.size() < 16) {
        throw engine_error(ENGINE_ERR_INVALID_CHECKPOINT, "checkpoint '" + path + "' is truncated");
    }
    uint64_t stored_hash;
    std::memcpy(&stored_hash, bytes.data() + bytes.size() - 8, 8);
    const std::string body = bytes.substr(0, bytes.size() - 8);
    checkpoint_reader r { body, path };
    if (r.get<uint32_t>() != CHECKPOINT_MAGIC) {
        throw engine_error(ENGINE_ERR_INVALID_CHECKPOINT, "'" + path + "' is not a LoRA Studio checkpoint (bad magic number)");
    }
    const uint32_t version = r.get<uint32_t>();
    if (version != CHECKPOINT_VERSION) {
        throw engine_error(ENGINE_ERR_INVALID_CHECKPOINT, "checkpoint '" + path + "' has format version " + std::to_string(version) +
                ", this engine reads version " + std::to_string(CHECKPOINT_VERSION));
    }
    if (fnv1a(body) != stored_hash) {
        throw engine_error(ENGINE_ERR_INVALID_CHECKPOINT, "checkpoint '" + path + "' is corrupt (checksum mismatch)");
    }
    const uint64_t step   = r.get<uint64_t>();
    const uint32_t micro  = r.get<uint32_t>();
    const uint64_t rng    = r.get<uint64_t>();
    const std::string cursor = r.get_str(r.get<uint32_t>());
    const uint32_t n_tensors = r.get<uint32_t>();
    if (n_tensors != trainer->params.size()) {
        throw engine_error(ENGINE_ERR_INVALID_CHECKPOINT, "checkpoint '" + path + "' has " + std::to_string(n_tensors) +
                " adapter tensors, this trainer has " + std::to_string(trainer->params.size()) + " (different target modules?)");
    }
    // read everything into copies first: a bad checkpoint must leave the trainer untouched
    std::vector<engine_param> loaded = trainer->params;
    for (auto & p : loaded) {
        const std::string name = r.get_str(r.get<uint32_t>());
        const uint32_t n_dims = r.get<uint32_t>();
        std::vector<int64_t> shape;
        for (uint32_t d = 0; d < n_dims; ++d) {
            shape.push_back(r.get<int64_t>());
        }
        if (name != p.name || shape != p.shape) {
            throw engine_error(ENGINE_ERR_INVALID_CHECKPOINT, "checkpoint '" + path + "' tensor '" + name + "' does not match the trainer's '" +
                    p.name + "' (different rank or model?)");
        }
        r.get_floats(p.value);
        r.get_floats(p.m);
        r.get_floats(p.v);
        r.get_floats(p.acc);
    }
    for (size_t i = 0; i < loaded.size(); ++i) {
        auto & p = trainer->params[i];
        p.value = std::move(loaded[i].value);
        p.m     = std::move(loaded[i].m);
        p.v     = std::move(loaded[i].v);
        p.acc   = std::move(loaded[i].acc);
        ggml_backend_tensor_set(p.tensor, p.value.data(), 0, p.value.size()*sizeof(float));
    }
    trainer->optimizer_step = (int64_t) step;
    trainer->micro_in_accum = (int32_t) micro;
    trainer->rng_state      = rng;
    trainer->diverged       = false;
    return cursor;
}

uint64_t engine_trainer_bytes(const engine_trainer * trainer) {
    uint64_t n = trainer->model->info.n_bytes;
    for (const auto & p : trainer->params) {
        n += 6*p.value.size()*sizeof(float); // device tensor + host value, m, v, acc, grad
    }
    return n;
}
