#include "engine_trainer.h"

#include "engine_error.h"
#include "engine_model.h"
#include "engine_file.h"
#include "engine_optimizer.h"

#include "ggml.h"
#include "ggml-backend.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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

// The weights that get an adapter: the targets' tensors, less those the graph never multiplies by.
struct target_selection {
    std::set<std::string> suffixes;
    std::set<std::string> unused;
};

static bool target_filter(const char * name, void * user_data) {
    const auto * sel = static_cast<const target_selection *>(user_data);
    return is_target_weight(name, sel->suffixes) && sel->unused.count(name) == 0;
}

// Gemma 4's shared-KV layers (the last <arch>.attention.shared_kv_layers) attend over an earlier layer's K/V: their
// attn_k/attn_v are in the file (E2B's converter writes them) but gemma4.cpp never multiplies by them, so an adapter on
// them would only ever get a zero gradient. They get none (and the saved adapter has none).
static std::set<std::string> unused_weights(const engine_model * model) {
    std::set<std::string> unused;
    if (model->info.arch != "gemma4") {
        return unused;
    }
    char buf[64] = {0};
    const std::string key = model->info.arch + ".attention.shared_kv_layers";
    if (llama_model_meta_val_str(model->model, key.c_str(), buf, sizeof(buf)) <= 0) {
        return unused;
    }
    const int32_t n_shared = std::atoi(buf);
    for (int32_t il = std::max<int32_t>(0, model->info.n_layer - n_shared); il < model->info.n_layer; ++il) {
        unused.insert("blk." + std::to_string(il) + ".attn_k.weight");
        unused.insert("blk." + std::to_string(il) + ".attn_v.weight");
    }
    return unused;
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
    target_selection selection;
    selection.unused = unused_weights(model);
    std::set<std::string> & suffixes = selection.suffixes;
    for (const auto & module : modules) {
        const std::string suffix = module_suffix(model->info.arch, module);
        bool found = false;
        for (const auto & w : model->weights) {
            if (is_target_weight(w.first, { suffix }) && selection.unused.count(w.first) == 0) {
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
        throw engine_error(llama_last_failure_was_out_of_memory() ? ENGINE_ERR_OUT_OF_MEMORY : ENGINE_ERR_INTERNAL,
                "could not create the training context: " + engine_log_tail_take());
    }
    llama_set_abort_callback(trainer->ctx, abort_if_cancelled, trainer.get());

    trainer->adapter = llama_adapter_lora_init_empty(model->model, adapter_opts.rank, adapter_opts.alpha, target_filter, &selection, adapter_opts.seed);
    if (!trainer->adapter) {
        const std::string why = engine_log_tail_take();
        llama_free(trainer->ctx);
        throw engine_error(llama_last_failure_was_out_of_memory() ? ENGINE_ERR_OUT_OF_MEMORY : ENGINE_ERR_INVALID_ARGUMENT,
                "could not create the LoRA adapter: " + why);
    }
    const int32_t init_rc = llama_lora_train_init(trainer->ctx, trainer->adapter);
    if (init_rc != 0) {
        const std::string why = engine_log_tail_take();
        engine_trainer_free(trainer.release());
        throw engine_error(init_rc == -10 ? ENGINE_ERR_OUT_OF_MEMORY : ENGINE_ERR_INTERNAL, "could not prepare the context for training: " + why);
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
        if (rc == -8) { // the training graph's buffers could not be allocated (patch 0011)
            throw engine_error(ENGINE_ERR_OUT_OF_MEMORY, "out of memory for a micro-batch of " + std::to_string(n) + " tokens" + (why.empty() ? "" : ": " + why));
        }
        throw engine_error(rc == -9 ? ENGINE_ERR_INTERNAL : ENGINE_ERR_INVALID_BATCH,
                "llama.cpp rejected the micro-batch (code " + std::to_string(rc) + ")" + (why.empty() ? "" : ": " + why));
    }
    return loss;
}

static void throw_if_cancelled(engine_trainer * trainer) {
    if (trainer->cancel_requested.exchange(false)) {
        throw engine_error(ENGINE_ERR_CANCELLED, "training was cancelled");
    }
}

// One optimizer update from the accumulated gradients (engine_optimizer.cpp), then the new values go to the backend.
static double apply_update(engine_trainer * trainer, double lr) {
    double norm = 0.0;
    try {
        norm = engine_adamw_update(trainer->params, trainer->opt, trainer->optimizer_step + 1, lr);
    } catch (const engine_error &) {
        trainer->diverged = true;
        throw;
    }
    for (auto & p : trainer->params) {
        ggml_backend_tensor_set(p.tensor, p.value.data(), 0, p.value.size()*sizeof(float));
    }
    trainer->optimizer_step++;
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

void engine_trainer_check_not_diverged(const engine_trainer * trainer, const std::string & path) {
    if (trainer->diverged) {
        throw engine_error(ENGINE_ERR_NON_FINITE, "training diverged (non-finite loss or gradient); refusing to write '" + path +
                "'. Load a checkpoint or start again with a lower learning rate");
    }
}

void engine_trainer_save_adapter(engine_trainer * trainer, const std::string & path) {
    engine_trainer_check_not_diverged(trainer, path);
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
    engine_rename_into_place(tmp_path, path);
}

uint64_t engine_trainer_bytes(const engine_trainer * trainer) {
    uint64_t n = trainer->model->info.n_bytes;
    for (const auto & p : trainer->params) {
        n += 6*p.value.size()*sizeof(float); // device tensor + host value, m, v, acc, grad
    }
    return n;
}
