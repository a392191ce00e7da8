// ggml operations that ctxembed's patches rewrite, against a reference in double precision or a
// scalar statement of upstream's arithmetic; compiled against each build's static ggml (patched-ops.test.ts).
//
//   patched-ops gelu    ggml_gelu over 4,096 values of x in [-8, 8], one row of whole vectors
//                       (0002 leaves a row's tail to the f16 table): prints the largest absolute
//                       error against the tanh form in double
//   patched-ops q8_0    Q8_0's quantization of activations (the from_float every Q8_0 product
//                       runs on its f32 input) over rows of 1 to 48 blocks: prints how many
//                       blocks differ from a scalar statement of the same arithmetic, and a hash
//                       of every block's bytes (extreme blocks included) to compare builds
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "ggml-cpu.h"
#include "ggml.h"

static int gelu() {
    const int n = 4096;
    ggml_init_params params = { 64 * 1024 * 1024, nullptr, false };
    ggml_context * ctx = ggml_init(params);
    ggml_tensor * x = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, n);
    float * input = (float *) x->data;
    for (int i = 0; i < n; i++) input[i] = -8.0f + 16.0f * (float) i / (float) (n - 1);
    ggml_tensor * y = ggml_gelu(ctx, x);
    ggml_cgraph * graph = ggml_new_graph(ctx);
    ggml_build_forward_expand(graph, y);
    ggml_graph_compute_with_ctx(ctx, graph, 1);
    const float * output = (const float *) y->data;
    double worst = 0;
    for (int i = 0; i < n; i++) {
        const double v = input[i];
        const double reference = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * v * (1.0 + 0.044715 * v * v)));
        worst = std::fmax(worst, std::fabs(output[i] - reference));
    }
    std::printf("gelu: largest absolute error %.3g over %d values in [-8, 8]\n", worst, n);
    ggml_free(ctx);
    return 0;
}

// ggml-common.h's block_q8_0, which ggml's public headers do not export (checked against
// ggml_type_size below)
constexpr int QK8_0 = 32;
struct block_q8_0 {
    ggml_fp16_t d;
    int8_t qs[QK8_0];
};

// Upstream's x86 statement of Q8_0 (d = max|x| / 127 rounded to f16, x * (127 / max|x|) rounded to
// nearest even), which ggml's portable reference does not match: it rounds halves away from zero.
static bool q8_0_block_as_stated(const float * x, const block_q8_0 & block) {
    float amax = 0.0f;
    for (int j = 0; j < QK8_0; j++) amax = std::fmax(amax, std::fabs(x[j]));
    // an infinite maximum or inverse (|x| under 127 / FLT_MAX) ends in x86's integer indefinite: the hash covers them
    if (amax != 0.0f && !(std::isfinite(amax) && std::isfinite(127.0f / amax))) return true;
    if (block.d != ggml_fp32_to_fp16(amax / 127.0f)) return false;
    const float inverse = amax != 0.0f ? 127.0f / amax : 0.0f;
    for (int j = 0; j < QK8_0; j++) {
        const float q = std::fmin(127.0f, std::fmax(-128.0f, std::nearbyint(x[j] * inverse)));
        if (block.qs[j] != (int8_t) q) return false;
    }
    return true;
}

static int q8_0() {
    if (ggml_type_size(GGML_TYPE_Q8_0) != sizeof(block_q8_0) || ggml_blck_size(GGML_TYPE_Q8_0) != QK8_0) {
        std::fprintf(stderr, "q8_0: ggml's block_q8_0 is not %zu bytes of %d values\n", sizeof(block_q8_0), QK8_0);
        return 1;
    }
    std::mt19937 random(37);
    std::normal_distribution<float> activation(0.0f, 1.0f);
    const int64_t row_blocks[] = { 1, 3, 12, 15, 16, 17, 31, 48 };
    int64_t blocks = 0, differing = 0;
    uint64_t hash = 1469598103934665603ull;
    for (int repeat = 0; repeat < 64; repeat++) {
        for (const int64_t nb : row_blocks) {
            std::vector<float> x(nb * QK8_0);
            for (float & v : x) v = activation(random) * (random() % 50 == 0 ? 40.0f : 1.0f);
            switch (repeat % 8) {
                case 1: std::fill(x.begin(), x.begin() + QK8_0, 0.0f); break;  // a zero block
                case 2:  // ties: max|x| = 127 makes the inverse 1, so halves round to even
                    for (int j = 0; j < QK8_0; j++) x[j] = j == 0 ? 127.0f : (float) (j - 16) + 0.5f;
                    break;
                case 3: x[5] = INFINITY; x[40 % x.size()] = -0.0f; break;
                case 4: for (int j = 0; j < QK8_0; j++) x[j] = 1e-39f * (float) (j - 7); break;  // subnormal maximum
                case 5: for (float & v : x) v *= 1e30f; break;
                default: break;
            }
            std::vector<block_q8_0> y(nb);
            ggml_get_type_traits_cpu(GGML_TYPE_Q8_0)->from_float(x.data(), y.data(), nb * QK8_0);
            for (int64_t b = 0; b < nb; b++) differing += !q8_0_block_as_stated(x.data() + b * QK8_0, y[b]);
            blocks += nb;
            const auto * bytes = (const unsigned char *) y.data();
            for (size_t i = 0; i < y.size() * sizeof(block_q8_0); i++) hash = (hash ^ bytes[i]) * 1099511628211ull;
        }
    }
    std::printf("q8_0: %lld of %lld blocks differ from the stated arithmetic; bytes fnv1a %016llx\n",
                (long long) differing, (long long) blocks, (unsigned long long) hash);
    return 0;
}

int main(int argc, char ** argv) {
    if (argc == 2 && std::strcmp(argv[1], "gelu") == 0) return gelu();
    if (argc == 2 && std::strcmp(argv[1], "q8_0") == 0) return q8_0();
    std::fprintf(stderr, "usage: %s gelu|q8_0\n", argv[0]);
    return 2;
}
