// A frozen GGUF base model, loaded for LoRA training: validated before llama.cpp sees it, so bad files
// become errors instead of aborts, and loaded without repacked weights (OUT_PROD has no kernel for them).
#pragma once

#include "llama.h"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

struct engine_model_info {
    std::string arch;
    int32_t     n_layer   = 0;
    int32_t     n_embd    = 0;
    int32_t     n_head    = 0;
    int32_t     n_head_kv = 0;
    int32_t     n_ff      = 0;
    int32_t     n_vocab   = 0;
    uint64_t    n_params  = 0;
    uint64_t    n_bytes   = 0;
    std::string file_type;
};

struct engine_model {
    llama_model *     model = nullptr;
    engine_model_info info;
    // every 2D weight: name -> {n_in, n_out} (ggml ne0, ne1), used to check target modules and rank
    std::map<std::string, std::array<int64_t, 2>> weights;
    int32_t n_threads = 2;
    int32_t n_ctx     = 512; // the largest micro-batch, in tokens
    bool    gpu       = false;
};

// Throws engine_error (INVALID_MODEL, UNSUPPORTED_ARCH, IO_ERROR). use_gpu: the first GPU when there is one.
engine_model * engine_model_load(const std::string & path, int32_t n_threads, int32_t n_ctx, bool use_gpu);
void           engine_model_free(engine_model * model);

// Quantizes a GGUF base ("q4_0", "q4_k_m", "q8_0") into out_path, written atomically. Throws engine_error.
void engine_model_quantize(const std::string & in_path, const std::string & out_path, const std::string & type, int32_t n_threads);

// The architectures whose graphs the training patches cover, in the order the README lists them.
const std::vector<std::string> & engine_trainable_archs();

// Empty when the engine can train a model of this architecture with n_expert experts; otherwise why not, as a sentence
// that names the architecture and lists the supported ones (same wording as sidecar/src/engine/architectures.ts).
std::string engine_arch_refusal(const std::string & arch, int64_t n_expert);

// Phi-3 stores q/k/v as one attn_qkv weight and gate+up as one ffn_up of width 2 n_ff.
bool engine_arch_has_fused_projections(const std::string & arch);
