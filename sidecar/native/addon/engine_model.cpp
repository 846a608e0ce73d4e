#include "engine_model.h"

#include "ggml-backend.h"

#include "engine_error.h"

#include "ggml.h"
#include "gguf.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <algorithm>
#include <set>
#include <vector>
#include <unistd.h>

// Mirrors TRAINABLE_ARCHITECTURES in sidecar/src/engine/architectures.ts (test/unit/architectures.test.ts compares them):
// the architectures whose every graph op has a backward pass and whose attention goes through the paths the training
// patches cover (0003, 0009).
const std::vector<std::string> & engine_trainable_archs() {
    static const std::vector<std::string> archs = { "llama", "qwen2", "qwen3", "phi3", "gemma", "gemma2", "gemma3", "smollm3", "mistral3", "gemma4" };
    return archs;
}

// llama.cpp's llm_arch_is_recurrent / llm_arch_is_hybrid (src/llama-arch.cpp), refused with that reason.
static bool arch_is_recurrent_or_hybrid(const std::string & arch) {
    static const std::set<std::string> archs = {
        "mamba", "mamba2", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7", "jamba", "falcon-h1", "plamo2", "granitehybrid", "lfm2",
        "lfm2moe", "nemotron_h", "nemotron_h_moe", "qwen3next", "kimi-linear", "bailingmoe3", "kimi-k3", "qwen35", "qwen35moe",
        "qwen4exp", "deepseek4", "minimax-01",
    };
    return archs.count(arch) > 0;
}

std::string engine_arch_refusal(const std::string & arch, int64_t n_expert) {
    std::string supported;
    for (const auto & a : engine_trainable_archs()) {
        supported += (supported.empty() ? "" : ", ") + a;
    }
    supported = "LoRA Studio trains " + supported;
    if (arch_is_recurrent_or_hybrid(arch)) {
        return "architecture '" + arch + "' is a recurrent or hybrid model, whose state-space or linear-attention layers have no "
               "backward pass here; " + supported;
    }
    if (n_expert > 0) {
        return "architecture '" + arch + "' here is a mixture-of-experts model (" + std::to_string(n_expert) + " experts), whose "
               "expert layers (MUL_MAT_ID) have no backward pass; " + supported + " (dense models only)";
    }
    const auto & archs = engine_trainable_archs();
    if (std::find(archs.begin(), archs.end(), arch) == archs.end()) {
        return "architecture '" + arch + "' cannot be trained; " + supported;
    }
    return "";
}

bool engine_arch_has_fused_projections(const std::string & arch) {
    return arch == "phi3";
}

struct gguf_scan {
    std::string arch;
    std::string general_type;
    int64_t     n_expert = 0; // <arch>.expert_count, or the experts of *_exps tensors when the key is missing
    std::map<std::string, std::array<int64_t, 2>> weights;
    std::string first_attn_q_type;
};

// Reads the GGUF header, metadata and tensor table, and checks what sidecar/src/gguf/reader.ts checks, so the two agree
// on every file (test/integration/gguf-agreement.test.ts): the path is a readable regular file, the magic is "GGUF",
// llama.cpp's own header checks pass, and the tensor table and the data region agree exactly: each tensor lies inside
// the file (llama.cpp memory-maps the data, so a truncated file would crash on first access) and no bytes follow the
// last tensor's padded data (a tensor count one short makes llama.cpp read every tensor from the wrong place and still
// "load"). Sizes use checked arithmetic; each failure names the file, the byte and the cause.
static gguf_scan gguf_scan_file(const std::string & path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) {
        throw engine_error(ENGINE_ERR_IO, "cannot read model file '" + path + "': " + (ec ? ec.message() : "it does not exist"));
    }
    if (std::filesystem::is_directory(status)) {
        throw engine_error(ENGINE_ERR_IO, "cannot read model file '" + path + "': it is a folder, not a GGUF file");
    }
    if (!std::filesystem::is_regular_file(status)) {
        throw engine_error(ENGINE_ERR_IO, "cannot read model file '" + path + "': it is not a regular file (a device, pipe or socket)");
    }
    const uint64_t file_size = std::filesystem::file_size(path, ec);
    if (ec) {
        throw engine_error(ENGINE_ERR_IO, "cannot read model file '" + path + "': " + ec.message());
    }
    {
        errno = 0;
        std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
        if (!f) {
            throw engine_error(ENGINE_ERR_IO, "cannot read model file '" + path + "': " + std::strerror(errno));
        }
        char magic[4] = {0, 0, 0, 0};
        if (file_size < 4 || std::fread(magic, 1, 4, f.get()) != 4) {
            throw engine_error(ENGINE_ERR_INVALID_MODEL, "'" + path + "' is not a valid GGUF file (byte " + std::to_string(file_size) +
                    "): the file has " + std::to_string(file_size) + " byte(s); truncated");
        }
        if (std::string(magic, 4) != "GGUF") {
            throw engine_error(ENGINE_ERR_INVALID_MODEL, "'" + path + "' is not a valid GGUF file (byte 0): bad magic; not a GGUF file");
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

    // The data region, tensor by tensor, in checked arithmetic: tensor i starts where tensor i-1's padded data ends.
    const uint64_t alignment   = gguf_get_alignment(gctx);
    const uint64_t data_offset = gguf_get_data_offset(gctx);
    const int64_t  n_tensors   = gguf_get_n_tensors(gctx);
    uint64_t expected = 0; // next tensor's offset within the data region
    for (int64_t i = 0; i < n_tensors; ++i) {
        const char *   name   = gguf_get_tensor_name(gctx, i);
        const uint64_t offset = gguf_get_tensor_offset(gctx, i);
        const uint64_t size   = gguf_get_tensor_size(gctx, i);
        uint64_t start = 0;
        uint64_t end   = 0;
        uint64_t padded = 0;
        const bool overflow = __builtin_add_overflow(data_offset, offset, &start) || __builtin_add_overflow(start, size, &end) ||
                __builtin_add_overflow(size, (alignment - size % alignment) % alignment, &padded);
        if (overflow || offset != expected) {
            throw engine_error(ENGINE_ERR_INVALID_MODEL, "'" + path + "' is not a valid GGUF file: tensor '" + name + "' says its data starts at data byte " +
                    std::to_string(offset) + ", but the tensors before it end at data byte " + std::to_string(expected) +
                    "; the tensor table and the data region disagree");
        }
        if (end > file_size) {
            throw engine_error(ENGINE_ERR_INVALID_MODEL, "'" + path + "' is truncated (byte " + std::to_string(std::min(start, file_size)) + "): tensor '" + name +
                    "' needs " + std::to_string(size) + " bytes at bytes " + std::to_string(start) + ".." + std::to_string(end) +
                    " but the file ends at byte " + std::to_string(file_size));
        }
        if (__builtin_add_overflow(expected, padded, &expected)) {
            throw engine_error(ENGINE_ERR_INVALID_MODEL, "'" + path + "' is not a valid GGUF file: the tensor sizes overflow");
        }
    }
    const uint64_t padded_end = n_tensors > 0 ? data_offset + expected : data_offset + (alignment - data_offset % alignment) % alignment;
    if (file_size > padded_end) {
        throw engine_error(ENGINE_ERR_INVALID_MODEL, "'" + path + "' is not a valid GGUF file (byte " + std::to_string(padded_end) + "): the tensor table describes " +
                std::to_string(n_tensors) + " tensor(s) whose data ends at byte " + std::to_string(padded_end) + ", but the file goes on to byte " +
                std::to_string(file_size) + ": " + std::to_string(file_size - padded_end) +
                " byte(s) that no tensor accounts for; the tensor table and the data region disagree (is the tensor count right?)");
    }

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

    const int64_t key_experts = gguf_find_key(gctx, (res.arch + ".expert_count").c_str());
    if (key_experts >= 0 && gguf_get_kv_type(gctx, key_experts) == GGUF_TYPE_UINT32) {
        res.n_expert = gguf_get_val_u32(gctx, key_experts);
    }

    for (int64_t i = 0; i < n_tensors; ++i) {
        const char * name = gguf_get_tensor_name(gctx, i);
        const ggml_tensor * t = ggml_get_tensor(meta, name);
        const std::string tname = name;
        if (t && res.n_expert == 0 && tname.size() > 12 && tname.compare(tname.size() - 12, 12, "_exps.weight") == 0) {
            res.n_expert = std::max<int64_t>(1, t->ne[2]); // Mixtral-style GGUFs without the key still have expert tensors
        }
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
    const std::string refusal = engine_arch_refusal(scan.arch, scan.n_expert);
    if (!refusal.empty()) {
        throw engine_error(ENGINE_ERR_UNSUPPORTED_ARCH, "cannot train '" + path + "': " + refusal);
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
        if (llama_last_failure_was_out_of_memory()) {
            throw engine_error(ENGINE_ERR_OUT_OF_MEMORY, "out of memory loading '" + path + "'" + (why.empty() ? "" : ": " + why));
        }
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
    const std::string refusal = engine_arch_refusal(scan.arch, scan.n_expert);
    if (!refusal.empty()) {
        throw engine_error(ENGINE_ERR_UNSUPPORTED_ARCH, "cannot quantize '" + in_path + "' for training: " + refusal);
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
