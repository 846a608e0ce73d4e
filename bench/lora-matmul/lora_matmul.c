// Cost of the three ops llama.cpp adds per LoRA'd weight at prompt time, against the base matmul they ride on,
// timed on the CPU backend node-llama-cpp ships (its prebuilt libggml, loaded like node-llama-cpp loads it).
// llama.cpp computes W x + scale * B (A x). A's inner dimension is the weight's width, B's is the rank, so B costs
// a dot product of length r per output element: ggml's kernels pay a fixed horizontal sum per element there, and
// B's time follows the outputs, not the FLOPs. Built and run by run.sh; prints per-op times and the ratio
// base / (base + lora) for each width, which is the best time-to-first-token ratio a rank-r adapter allows.
//
// usage: lora_matmul <dir of libggml-cpu-*.so> <rank> <tokens> <width>...
#include "ggml.h"
#include "ggml-alloc.h"
#include "ggml-backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// Random bytes are valid Q4_0 blocks as long as the f16 scale is finite: 0x00..0x3f keeps its exponent small.
static void fill_random(struct ggml_tensor * t) {
    const size_t n = ggml_nbytes(t);
    unsigned char * bytes = malloc(n);
    for (size_t i = 0; i < n; i++) {
        bytes[i] = (unsigned char) (rand() & 0x3f);
    }
    if (t->type == GGML_TYPE_F32) {
        float * f = (float *) bytes;
        for (size_t i = 0; i < n / 4; i++) {
            f[i] = (rand() / (float) RAND_MAX - 0.5f) * 0.1f;
        }
    }
    ggml_backend_tensor_set(t, bytes, 0, n);
    free(bytes);
}

enum op_kind { OP_MATMUL, OP_SCALE_ADD };

// Median of 5 repetitions of `reps` graph computations, in ms per computation.
static double time_op(ggml_backend_t backend, enum op_kind kind, enum ggml_type type, int k, int m, int n_tokens) {
    struct ggml_init_params params = { ggml_tensor_overhead() * 8 + ggml_graph_overhead(), NULL, true };
    struct ggml_context * ctx = ggml_init(params);
    struct ggml_tensor * out;
    struct ggml_tensor * inputs[2];
    int n_inputs = 0;
    if (kind == OP_MATMUL) {
        struct ggml_tensor * w = ggml_new_tensor_2d(ctx, type, k, m);
        struct ggml_tensor * x = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k, n_tokens);
        inputs[n_inputs++] = w;
        inputs[n_inputs++] = x;
        out = ggml_mul_mat(ctx, w, x);
    } else {
        struct ggml_tensor * ab  = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, m, n_tokens);
        struct ggml_tensor * res = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, m, n_tokens);
        inputs[n_inputs++] = ab;
        inputs[n_inputs++] = res;
        out = ggml_add(ctx, res, ggml_scale(ctx, ab, 2.0f));
    }
    struct ggml_cgraph * graph = ggml_new_graph(ctx);
    ggml_build_forward_expand(graph, out);
    ggml_backend_buffer_t buffer = ggml_backend_alloc_ctx_tensors(ctx, backend);
    for (int i = 0; i < n_inputs; i++) {
        fill_random(inputs[i]);
    }
    ggml_backend_graph_compute(backend, graph); // warm-up: page faults, work buffer
    const int reps = m * (double) k * n_tokens > 1e9 ? 2 : 8;
    double times[5];
    for (int r = 0; r < 5; r++) {
        const double t0 = now_ms();
        for (int i = 0; i < reps; i++) {
            ggml_backend_graph_compute(backend, graph);
        }
        times[r] = (now_ms() - t0) / reps;
    }
    for (int i = 0; i < 5; i++) {
        for (int j = i + 1; j < 5; j++) {
            if (times[j] < times[i]) {
                const double s = times[i]; times[i] = times[j]; times[j] = s;
            }
        }
    }
    ggml_backend_buffer_free(buffer);
    ggml_free(ctx);
    return times[2];
}

int main(int argc, char ** argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s <dir of libggml-cpu-*.so> <rank> <tokens> <width>...\n", argv[0]);
        return 2;
    }
    ggml_backend_load_all_from_path(argv[1]);
    ggml_backend_t backend = ggml_backend_init_by_type(GGML_BACKEND_DEVICE_TYPE_CPU, NULL);
    if (backend == NULL) {
        fprintf(stderr, "no CPU backend under %s\n", argv[1]);
        return 1;
    }
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(ggml_backend_get_device(backend));
    ggml_backend_set_n_threads_t set_threads = (ggml_backend_set_n_threads_t) ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_n_threads");
    set_threads(backend, 1); // as the chat-adapter bench: one thread, no barrier waits in the figures
    const int rank = atoi(argv[2]);
    const int n_tokens = atoi(argv[3]);
    printf("rank %d, %d tokens, 1 thread, square weight per width, base Q4_0 (CPU kernels, no AMX repacking)\n", rank, n_tokens);
    printf("%8s %12s %10s %10s %12s %12s %8s\n", "width", "base ms", "A ms", "B ms", "scale+add", "B ns/out", "ratio");
    for (int i = 4; i < argc; i++) {
        const int width = atoi(argv[i]);
        const double base = time_op(backend, OP_MATMUL, GGML_TYPE_Q4_0, width, width, n_tokens);
        const double a    = time_op(backend, OP_MATMUL, GGML_TYPE_F32, width, rank, n_tokens);
        const double b    = time_op(backend, OP_MATMUL, GGML_TYPE_F32, rank, width, n_tokens);
        const double sa   = time_op(backend, OP_SCALE_ADD, GGML_TYPE_F32, rank, width, n_tokens);
        const double lora = a + b + sa;
        printf("%8d %12.3f %10.3f %10.3f %12.3f %12.2f %8.3f\n", width, base, a, b, sa, 1e6 * b / ((double) width * n_tokens), base / (base + lora));
        fflush(stdout);
    }
    ggml_backend_free(backend);
    return 0;
}
