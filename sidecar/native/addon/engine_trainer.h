// LoRA training on one frozen base model: a dedicated llama_context with a trainable adapter attached,
// plus the optimizer. The optimizer runs here on host copies of the (small) adapter tensors instead of
// inside ggml-opt, because ggml-opt indexes its accumulators and moments by graph node position (the graph
// must never change shape), cannot expose its state by tensor for checkpoints, and has no global-norm
// clipping, schedules or non-finite checks. The forward and backward passes stay on the backend (CPU or
// GPU); only adapter-sized gradients cross to the host once per micro-batch.
#pragma once

#include "engine_model.h"
#include "engine_optimizer.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

// B = batch tokens (one micro-batch, several packed sequences), V = vocabulary
struct engine_batch {
    std::vector<int32_t> tokens;    // [B]
    std::vector<int32_t> positions; // [B] consecutive within each sequence
    std::vector<int32_t> seq_ids;   // [B] packed sequences never attend to each other
    std::vector<int32_t> labels;    // [B] target token of the logits at row i, -1 = masked
};

struct engine_adapter_options {
    int32_t                  rank    = 8;
    float                    alpha   = 16.0f;
    float                    dropout = 0.0f;
    std::vector<std::string> target_modules; // attn_q, attn_k, attn_v, attn_o, ffn_gate, ffn_up, ffn_down
    uint64_t                 seed    = 0;
};

struct engine_step_result {
    double  loss           = 0.0;
    double  grad_norm      = -1.0; // < 0: no optimizer step this call
    int32_t tokens         = 0;
    int32_t trained_tokens = 0;
    int64_t optimizer_step = 0;
    double  lr             = 0.0;
    bool    applied_update = false;
};

// Nodes of the last evaluated graph that the ggml scheduler placed on one backend ("CUDA0", "CPU"), or, in
// engine_trainer::cpu_ops, the CPU nodes of one op signature ("OUT_PROD(q4_K,f32)").
struct engine_node_count {
    std::string name;
    int32_t     n_nodes = 0;
};

struct engine_trainer {
    engine_model *             model   = nullptr;
    llama_context *            ctx     = nullptr;
    llama_adapter_lora *       adapter = nullptr;
    engine_adapter_options     adapter_opts;
    engine_optimizer_options   opt;
    std::vector<engine_param>  params;
    int64_t                    optimizer_step = 0; // updates applied so far
    int32_t                    micro_in_accum = 0; // micro-batches accumulated towards the next update
    uint64_t                   rng_state      = 0; // dropout mask seeds; saved in checkpoints
    bool                       diverged       = false; // a non-finite loss or gradient was seen: saving is refused
    std::atomic<bool>          cancel_requested { false };
    std::vector<engine_node_count> backend_nodes; // of the last evaluated graph (empty before the first)
    std::vector<engine_node_count> cpu_ops;
};

// Throws engine_error. The trainer keeps a pointer to the model: free the trainer first.
engine_trainer * engine_trainer_init(engine_model * model, const engine_adapter_options & adapter, const engine_optimizer_options & opt);
void             engine_trainer_free(engine_trainer * trainer);

void               engine_batch_check(const engine_trainer * trainer, const engine_batch & batch, bool need_labels);
engine_step_result engine_trainer_step(engine_trainer * trainer, const engine_batch & batch);
double             engine_trainer_eval_loss(engine_trainer * trainer, const engine_batch & batch, int32_t * n_labels);
std::vector<float> engine_trainer_eval_logits(engine_trainer * trainer, const engine_batch & batch);
double             engine_trainer_compute_gradients(engine_trainer * trainer, const engine_batch & batch); // into params[i].grad

void        engine_trainer_save_adapter(engine_trainer * trainer, const std::string & path);
// Throws NON_FINITE (naming path) once training diverged: nothing may be saved from a diverged state.
void        engine_trainer_check_not_diverged(const engine_trainer * trainer, const std::string & path);
// engine_checkpoint.cpp: the checkpoint format
void        engine_trainer_save_checkpoint(engine_trainer * trainer, const std::string & path, const std::string & data_cursor);
std::string engine_trainer_load_checkpoint(engine_trainer * trainer, const std::string & path); // returns the data cursor
uint64_t    engine_trainer_bytes(const engine_trainer * trainer);
