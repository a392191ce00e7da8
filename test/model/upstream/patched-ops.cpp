// ggml operations that ctxembed's patches compute differently from upstream, against a
// double-precision reference; compiled against each build's static ggml (patched-ops.test.ts).
//
//   patched-ops gelu    ggml_gelu over 4,096 values of x in [-8, 8], one row of whole vectors
//                       (0002 leaves a row's tail to the f16 table): prints the largest absolute
//                       error against the tanh form in double
#include <cmath>
#include <cstdio>
#include <cstring>

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

int main(int argc, char ** argv) {
    if (argc == 2 && std::strcmp(argv[1], "gelu") == 0) return gelu();
    std::fprintf(stderr, "usage: %s gelu\n", argv[0]);
    return 2;
}
