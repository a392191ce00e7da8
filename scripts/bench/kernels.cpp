// The matrix kernels alone, at all-MiniLM-L6-v2's shapes: GFLOP/s (int8: G operations/s) of one
// thread, thread CPU time, each against this core's peak for its instruction measured in the same
// run. ctxembed's repacked kernels (f32 AVX-512, bf16 AVX512_BF16, Q8_0 AVX512-VNNI: the
// llama-patches 0007, 0008, 0010, 0012) beside the same weights in a plain CPU buffer (OpenBLAS
// for f32 where the build links it, tinyBLAS otherwise). Each product is followed by the ADD of a
// bias row, as in the model (0010 fuses it into the repacked kernels). Built and run by
// scripts/bench/kernels.ts against the static ggml libraries of build/.
#include <immintrin.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <vector>

#include "ggml-products.h"

namespace {

double ThreadSeconds() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec + now.tv_nsec * 1e-9;
}

// The best of 5 rounds of `reps` calls, in seconds a call: the least disturbed by other work.
template <typename F>
double BestSeconds(int reps, F&& call) {
  double best = 1e30;
  for (int round = 0; round < 5; round++) {
    const double start = ThreadSeconds();
    for (int i = 0; i < reps; i++) call();
    best = std::min(best, (ThreadSeconds() - start) / reps);
  }
  return best;
}

// Twelve independent chains of one instruction (more than its latency times its throughput), held
// in registers, so that the loop runs at the instruction's peak. Each chain starts from its own
// value, read through a volatile, so that the compiler cannot merge them.
template <typename Make, typename Step>
auto TwelveChains(Make make, Step step, long iterations) {
  volatile int seed = 1;
  auto c0 = make(seed + 0), c1 = make(seed + 1), c2 = make(seed + 2), c3 = make(seed + 3);
  auto c4 = make(seed + 4), c5 = make(seed + 5), c6 = make(seed + 6), c7 = make(seed + 7);
  auto c8 = make(seed + 8), c9 = make(seed + 9), c10 = make(seed + 10), c11 = make(seed + 11);
  for (long i = 0; i < iterations; i++) {
    c0 = step(c0), c1 = step(c1), c2 = step(c2), c3 = step(c3), c4 = step(c4), c5 = step(c5);
    c6 = step(c6), c7 = step(c7), c8 = step(c8), c9 = step(c9), c10 = step(c10), c11 = step(c11);
  }
  // every chain's result kept, so that none is dropped as unused
  decltype(c0) results[] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11};
  __asm__ volatile("" : : "r"(results) : "memory");
  return c0;
}

// The instruction's peak in operations a second (a multiply-add counts 2).
template <typename Make, typename Step>
double Peak(Make make, int operations_per_instruction, Step step) {
  constexpr long kIterations = 20'000'000;
  volatile float sink = 0;
  const double seconds = BestSeconds(1, [&] {
    const auto end = TwelveChains(make, step, kIterations);
    sink = sink + reinterpret_cast<const float*>(&end)[0];
  });
  return kIterations * 12.0 * operations_per_instruction / seconds;
}

// tokens x inner -> outputs with weights of `type` held in `buffer_type`, plus a bias: operations a second
double Product(ggml_backend_t backend, ggml_backend_buffer_type_t buffer_type, ggml_type type, int inner,
               int outputs, int tokens, int reps) {
  std::mt19937 random(1);
  std::normal_distribution<float> normal;
  std::vector<float> weight_values(size_t(inner) * outputs);
  for (float& value : weight_values) value = normal(random);
  std::vector<uint8_t> weights(ggml_row_size(type, inner) * outputs);
  ggml_quantize_chunk(type, weight_values.data(), weights.data(), 0, outputs, inner, nullptr);

  const WeightMatrix w(buffer_type, type, inner, outputs, weights);
  const ProductGraph product(backend, w.tensor(), tokens, true);
  std::vector<float> activations(size_t(inner) * tokens);
  for (float& value : activations) value = normal(random);
  ggml_backend_tensor_set(product.activations, activations.data(), 0, sizeof(float) * activations.size());
  const std::vector<float> bias_values(outputs, 0.5f);
  ggml_backend_tensor_set(product.bias, bias_values.data(), 0, sizeof(float) * outputs);

  ggml_backend_graph_compute(backend, product.graph);  // warm the caches and the work buffer
  const double seconds = BestSeconds(reps, [&] { ggml_backend_graph_compute(backend, product.graph); });
  return 2.0 * inner * outputs * tokens / seconds;
}

bool HasFeature(ggml_backend_t backend, const char* name) {
  ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(ggml_backend_get_device(backend));
  auto features = reinterpret_cast<ggml_backend_get_features_t>(
      ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features"));
  for (ggml_backend_feature* feature = features(reg); feature->name != nullptr; feature++) {
    if (std::strcmp(feature->name, name) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const int tokens = argc > 1 ? std::atoi(argv[1]) : 256;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 10;
  ggml_backend_t backend = ggml_backend_cpu_init();
  ggml_backend_cpu_set_n_threads(backend, 1);
  ggml_backend_buffer_type_t repack = RepackBufferType(backend);
  if (repack == nullptr) {
    std::printf("no CPU_REPACK buffer type in this build\n");
    return 2;
  }

  struct Kind {
    const char* name;
    ggml_type type;
    double peak;
    const char* peak_name;
    const char* repack_feature;  // the CPU backend's feature that names ctxembed's kernel for the type
  };
  const auto floats = [](int j) { return _mm512_set1_ps(float(j)); };
  std::vector<Kind> kinds;
  const auto fma = [](__m512 a) { return _mm512_fmadd_ps(a, _mm512_set1_ps(1e-9f), a); };
  kinds.push_back({"f32", GGML_TYPE_F32, Peak(floats, 32, fma), "vfmadd231ps", "REPACK_F32_AVX512"});
#ifdef __AVX512BF16__
  const auto dpbf16 = [](__m512 a) {
    const __m512bh one = (__m512bh)_mm512_set1_epi32(0x3f803f80);
    return _mm512_dpbf16_ps(a, one, one);
  };
  kinds.push_back({"bf16", GGML_TYPE_BF16, Peak(floats, 64, dpbf16), "vdpbf16ps", "REPACK_BF16_AVX512BF16"});
#endif
#ifdef __AVX512VNNI__
  const auto integers = [](int j) { return _mm512_set1_epi32(j); };
  const auto dpbusd = [](__m512i a) { return _mm512_dpbusd_epi32(a, _mm512_set1_epi8(1), _mm512_set1_epi8(1)); };
  kinds.push_back({"q8_0", GGML_TYPE_Q8_0, Peak(integers, 128, dpbusd), "vpdpbusd", "REPACK_Q8_0_VNNI"});
#endif

  std::printf("one thread, %d tokens, best of 5 rounds of %d products (thread CPU time), G operations/s\n", tokens,
              reps);
  std::printf("%-5s %-12s %7s %-12s %9s %9s %9s %9s\n", "type", "peak of", "peak", "shape", "repacked", "of peak",
              "plain", "of peak");
  const int shapes[][2] = {{384, 384}, {384, 1536}, {1536, 384}};
  for (const Kind& kind : kinds) {
    for (const auto& shape : shapes) {
      // without ctxembed's kernel the repacking buffer has no layout for the type (or another kernel)
      const double repacked = HasFeature(backend, kind.repack_feature)
                                  ? Product(backend, repack, kind.type, shape[0], shape[1], tokens, reps)
                                  : 0;  // printed as 0: this build has no such kernel
      const double plain =
          Product(backend, ggml_backend_cpu_buffer_type(), kind.type, shape[0], shape[1], tokens, reps);
      char name[32];
      std::snprintf(name, sizeof(name), "%d->%d", shape[0], shape[1]);
      std::printf("%-5s %-12s %7.1f %-12s %9.1f %8.0f%% %9.1f %8.0f%%\n", kind.name, kind.peak_name, kind.peak / 1e9,
                  name, repacked / 1e9, 100 * repacked / kind.peak, plain / 1e9, 100 * plain / kind.peak);
    }
  }
  ggml_backend_free(backend);
  return 0;
}
