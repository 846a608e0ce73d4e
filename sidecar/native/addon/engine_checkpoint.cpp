// The trainer's checkpoint format, write and read (llm.c style: magic number and version first, a checksum last). A
// checkpoint holds the adapter, the AdamW moments, the accumulated gradient and the data cursor, so a resumed run
// continues exactly where it stopped. Plain C++ over engine_trainer.
#include "engine_trainer.h"

#include "engine_error.h"
#include "engine_file.h"

#include "ggml-backend.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unistd.h>

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
    engine_trainer_check_not_diverged(trainer, path);
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
    engine_rename_into_place(tmp_path, path);
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
