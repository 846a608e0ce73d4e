#include "engine_model.h"

#include "ggml-backend.h"

#include "engine_error.h"

#include "ggml.h"
#include "gguf.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <unistd.h>

bool engine_arch_is_trainable(const std::string & arch) {
    static const std::set<std::string> trainable = { "llama", "qwen2", "qwen3" };
    return trainable.count(arch) > 0;
}

struct gguf_scan {
    std::string arch;
    std::string general_type;
    std::map<std::string, std::array<int64_t, 2>> weights;
    std::string first_attn_q_type;
};

// Reads the GGUF header, metadata and tensor table, and checks that every tensor's data lies inside the
// file: llama.cpp memory-maps the data, so a truncated file would otherwise crash on first access.
static gguf_scan gguf_scan_file(const std::string & path) {
    std::error_code ec;
    const auto file_size = std::filesystem::file_size(path, ec);
    if (ec) {
        throw engine_error(ENGINE_ERR_IO, "cannot read model file '" + path + "': " + ec.message());
    }
    {
        std::ifstream f(path, std::ios::binary);
        char magic[4] = {0, 0, 0, 0};
        f.read(magic, 4);
        if (!f || std::string(magic, 4) != "GGUF") {
            throw engine_error(ENGINE_ERR_INVALID_MODEL, "'" + path + "' is not a GGUF file (bad magic number)");
        }
    }

    ggml_context * meta = nullptr;
    gguf_init_params params = { /*no_alloc =*/ true, /*ctx =*/ &meta };
    gguf_context * gctx = gguf_init_from_file(path.c_str(), params);
    if (!gctx) {
        const std::string why = engine_log_tail_take();
        throw engine_error(ENGINE_ERR_INVALID_MODEL, "'" + path + "' is not a valid GGUF file (corrupt or truncated header/metadata)" +
                (why.empty() ? "" : ": " + why));
    }
    std::unique_ptr<gguf_context, decltype(&gguf_free)> gctx_ptr(gctx, gguf_free);
    std::unique_ptr<ggml_context, decltype(&ggml_free)> meta_ptr(meta, ggml_free);

    gguf_scan res;
    const int64_t key_arch = gguf_find_key(gctx, "general.architecture");
    if (key_arch < 0 || gguf_get_kv_type(gctx, key_arch) != GGUF_TYPE_STRING) {
        throw engine_error(ENGINE_ERR_INVALID_MODEL, "'" + path + "' has no general.architecture string");
    }
    res.arch = gguf_get_val_str(gctx, key_arch);
    const int64_t key_type = gguf_find_key(gctx, "general.type");
    if (key_type >= 0 && gguf_get_kv_type(gctx, key_type) == GGUF_TYPE_STRING) {
        res.general_type = gguf_get_val_str(gctx, key_type);
    }

    const uint64_t data_offset = gguf_get_data_offset(gctx);
    for (int64_t i = 0; i < gguf_get_n_tensors(gctx); ++i) {
        const char * name = gguf_get_tensor_name(gctx, i);
        const uint64_t end = data_offset + gguf_get_tensor_offset(gctx, i) + gguf_get_tensor_size(gctx, i);
        if (end > file_size) {
            throw engine_error(ENGINE_ERR_INVALID_MODEL, "'" + path + "' is truncated: tensor '" + name + "' needs " +
                    std::to_string(end) + " bytes, the file has " + std::to_string(file_size));
        }
        const ggml_tensor * t = ggml_get_tensor(meta, name);
        if (t && ggml_n_dims(t) == 2) {
            res.weights[name] = { t->ne[0], t->ne[1] };
        }
        if (t && res.first_attn_q_type.empty() && std::string(name).find(".attn_q.weight") != std::string::npos) {
            res.first_attn_q_type = ggml_type_name(t->type);
        }
    }
    return res;
}

static std::string ftype_name(llama_ftype ftype, const std::string & fallback) {
    switch ((int) ftype & ~LLAMA_FTYPE_GUESSED) {
        case LLAMA_FTYPE_ALL_F32:         return "f32";
        case LLAMA_FTYPE_MOSTLY_F16:      return "f16";
        case LLAMA_FTYPE_MOSTLY_BF16:     return "bf16";
        case LLAMA_FTYPE_MOSTLY_Q8_0:     return "q8_0";
        case LLAMA_FTYPE_MOSTLY_Q4_0:     return "q4_0";
        case LLAMA_FTYPE_MOSTLY_Q4_K_M:   return "q4_k_m";
        case LLAMA_FTYPE_MOSTLY_Q4_K_S:   return "q4_k_s";
        default:                          return fallback;
    }
}

static int32_t meta_int(const llama_model * model, const std::string & key, int32_t fallback) {
    char buf[64];
    if (llama_model_meta_val_str(model, key.c_str(), buf, sizeof(buf)) < 0) {
        return fallback;
    }
    return (int32_t) std::strtol(buf, nullptr, 10);
}

engine_model * engine_model_load(const std::string & path, int32_t n_threads, int32_t n_ctx, bool use_gpu) {
    if (n_ctx < 1 || n_ctx > 65536) {
        throw engine_error(ENGINE_ERR_INVALID_ARGUMENT, "nCtx must be between 1 and 65536 tokens, got " + std::to_string(n_ctx));
    }
    engine_log_tail_take();
    gguf_scan scan = gguf_scan_file(path);
    if (scan.general_type == "adapter") {
        throw engine_error(ENGINE_ERR_INVALID_MODEL, "'" + path + "' is a LoRA adapter, not a base model");
    }
    if (!engine_arch_is_trainable(scan.arch)) {
        throw engine_error(ENGINE_ERR_UNSUPPORTED_ARCH, "'" + path + "' has architecture '" + scan.arch +
                "', which this engine cannot train (supported: llama, qwen2, qwen3)");
    }

    llama_model_params mparams = llama_model_default_params();
    mparams.use_extra_bufts = false; // repacked CPU weights have no OUT_PROD kernel: the backward pass would abort
    // Training uses the first GPU alone (a layer split would pipeline the backward pass across devices), or none:
    // an empty device list keeps even the scheduler's op offloading off the GPU, so "cpu" is a pure CPU engine.
    ggml_backend_dev_t gpu_dev = use_gpu && llama_supports_gpu_offload() ? ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_GPU) : nullptr;
    ggml_backend_dev_t devices[] = { gpu_dev, nullptr };
    mparams.devices      = devices;
    mparams.n_gpu_layers = gpu_dev ? 999 : 0;
    // llama.cpp keeps the input layer (the token embedding) on the CPU even when every layer is offloaded, so its
    // GET_ROWS would be the one CPU node of every training step. Its GPU kernel exists for every base type we train,
    // so the embedding goes to the GPU too; the override list must outlive the load call only.
    const llama_model_tensor_buft_override embd_on_gpu[] = {
        { "^token_embd\\.weight$", gpu_dev ? ggml_backend_dev_buffer_type(gpu_dev) : nullptr },
        { nullptr, nullptr },
    };
    if (gpu_dev) {
        mparams.tensor_buft_overrides = embd_on_gpu;
    }
    llama_model * model = llama_model_load_from_file(path.c_str(), mparams);
    if (!model) {
        const std::string why = engine_log_tail_take();
        throw engine_error(ENGINE_ERR_INVALID_MODEL, "llama.cpp could not load '" + path + "'" + (why.empty() ? "" : ": " + why));
    }

    auto * res = new engine_model();
    res->model     = model;
    res->weights   = std::move(scan.weights);
    res->n_threads = n_threads > 0 ? n_threads : 2;
    res->n_ctx     = n_ctx;
    res->gpu       = gpu_dev != nullptr;

    engine_model_info & info = res->info;
    info.arch      = scan.arch;
    info.n_layer   = llama_model_n_layer(model);
    info.n_embd    = llama_model_n_embd(model);
    info.n_head    = llama_model_n_head(model);
    info.n_head_kv = llama_model_n_head_kv(model);
    info.n_ff      = meta_int(model, scan.arch + ".feed_forward_length", 0);
    info.n_vocab   = llama_vocab_n_tokens(llama_model_get_vocab(model));
    info.n_params  = llama_model_n_params(model);
    info.n_bytes   = llama_model_size(model);
    info.file_type = ftype_name(llama_model_ftype(model), scan.first_attn_q_type.empty() ? "unknown" : scan.first_attn_q_type);
    return res;
}

void engine_model_free(engine_model * model) {
    if (!model) {
        return;
    }
    llama_model_free(model->model);
    delete model;
}

void engine_model_quantize(const std::string & in_path, const std::string & out_path, const std::string & type, int32_t n_threads) {
    llama_ftype ftype;
    if (type == "q4_0") {
        ftype = LLAMA_FTYPE_MOSTLY_Q4_0;
    } else if (type == "q4_k_m") {
        ftype = LLAMA_FTYPE_MOSTLY_Q4_K_M;
    } else if (type == "q8_0") {
        ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
    } else {
        throw engine_error(ENGINE_ERR_INVALID_ARGUMENT, "unknown quantization type '" + type + "' (use q4_0, q4_k_m or q8_0)");
    }
    engine_log_tail_take();
    const gguf_scan scan = gguf_scan_file(in_path);
    if (scan.general_type == "adapter") {
        throw engine_error(ENGINE_ERR_INVALID_MODEL, "'" + in_path + "' is a LoRA adapter, not a base model");
    }
    if (!engine_arch_is_trainable(scan.arch)) {
        throw engine_error(ENGINE_ERR_UNSUPPORTED_ARCH, "'" + in_path + "' has architecture '" + scan.arch + "', which this engine cannot train");
    }

    const std::string tmp_path = out_path + ".tmp-" + std::to_string(getpid());
    llama_model_quantize_params qparams = llama_model_quantize_default_params();
    qparams.ftype   = ftype;
    qparams.nthread = n_threads > 0 ? n_threads : 2;
    if (llama_model_quantize(in_path.c_str(), tmp_path.c_str(), &qparams) != 0) {
        std::remove(tmp_path.c_str());
        const std::string why = engine_log_tail_take();
        throw engine_error(ENGINE_ERR_INVALID_MODEL, "could not quantize '" + in_path + "' to " + type + (why.empty() ? "" : ": " + why));
    }
    std::error_code ec;
    std::filesystem::rename(tmp_path, out_path, ec);
    if (ec) {
        std::remove(tmp_path.c_str());
        throw engine_error(ENGINE_ERR_IO, "could not write '" + out_path + "': " + ec.message());
    }
}
