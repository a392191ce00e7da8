// ctxembed's repacked kernels, through ggml's public API: Q8_0 on AVX512-VNNI
// (scripts/build/llama-patches/0007-q8_0-vnni-repack.patch), f32 on AVX-512 (0008-repack-f32-avx512.patch)
// and bf16 on AVX512_BF16 (0012-bf16-repack-avx512bf16.patch).
// A weight matrix of the type named by the argument (q8_0, f32 or bf16) in the CPU backend's repacking
// buffer times activation matrices of several widths. Checks, for every column of every width:
//  - the same bits as that column multiplied alone (the one-row paths, the 4- and 8-row tiles);
//  - a double-precision product of the weights and the activations as the kernel sees them
//    (Q8_0: both dequantized, the activations quantized as ggml quantizes a row; bf16: the
//    activations rounded to bf16 as ggml rounds a row), within 1e-5 of the sum of |products|;
//  - llama.cpp's own product of the same weights in a plain CPU buffer (Q8_0 and bf16: tinyBLAS,
//    upstream's path for them; f32: OpenBLAS where the build links it, else tinyBLAS) within the
//    same bound;
//  - the product followed by the ADD of a bias row, which ggml-cpu fuses into the kernel
//    (repack-fused-bias.patch): the same bits as the product plus the bias, and the product's own
//    tensor never written, so the fused path is the one that ran.
// Built and run by repack-kernels.test.ts against the static libraries in build/. Prints one
// line; exit 0 when every check holds, 1 otherwise, 2 on a wrong argument or a build without a
// repacking buffer.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "../../../scripts/bench/ggml-products.h"

namespace {

constexpr int64_t kInner = 384;   // K: 12 Q8_0 blocks of 32
constexpr int64_t kOutputs = 96;  // rows of the weight matrix: six Q8_0 groups of 16, three f32 or bf16 panels of 32
constexpr int kWidths[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 37};
constexpr int kMaxWidth = 37;

struct Product {
  std::vector<float> values;
  // with a bias: whether the product's own tensor was written (it is not when the ADD is fused)
  bool product_written = false;
};

// W (kOutputs x kInner, of weight_type) times the first `width` columns of `activations`, W held in
// `type`; plus `bias` (kOutputs values) in a graph ADD node where there is one.
Product Multiply(ggml_backend_t backend, ggml_backend_buffer_type_t type, ggml_type weight_type,
                 const std::vector<uint8_t>& weights, const std::vector<float>& activations, int width,
                 const std::vector<float>* bias = nullptr) {
  const WeightMatrix w(type, weight_type, kInner, kOutputs, weights);
  const ProductGraph graph(backend, w.tensor(), width, bias != nullptr);
  ggml_backend_tensor_set(graph.activations, activations.data(), 0, sizeof(float) * kInner * width);
  const std::vector<float> unwritten(kOutputs * width, std::nanf(""));
  if (bias != nullptr) {
    ggml_backend_tensor_set(graph.bias, bias->data(), 0, sizeof(float) * kOutputs);
    ggml_backend_tensor_set(graph.product, unwritten.data(), 0, sizeof(float) * unwritten.size());
  }
  ggml_backend_graph_compute(backend, graph.graph);
  Product out;
  out.values.resize(kOutputs * width);
  ggml_backend_tensor_get(graph.output, out.values.data(), 0, sizeof(float) * out.values.size());
  if (bias != nullptr) {
    std::vector<float> product_values(unwritten.size());
    ggml_backend_tensor_get(graph.product, product_values.data(), 0, sizeof(float) * product_values.size());
    out.product_written = std::any_of(product_values.begin(), product_values.end(), [](float v) { return !std::isnan(v); });
  }
  return out;
}

std::vector<float> AsFloats(ggml_type type, const std::vector<uint8_t>& data, int64_t rows) {
  std::vector<float> values(rows * kInner);
  if (type == GGML_TYPE_F32) {
    std::memcpy(values.data(), data.data(), sizeof(float) * values.size());
  } else {
    ggml_get_type_traits(type)->to_float(data.data(), values.data(), rows * kInner);
  }
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  const std::pair<const char*, ggml_type> types[] = {{"q8_0", GGML_TYPE_Q8_0}, {"f32", GGML_TYPE_F32}, {"bf16", GGML_TYPE_BF16}};
  const auto named = std::find_if(std::begin(types), std::end(types),
                                  [&](const auto& entry) { return argc == 2 && std::strcmp(argv[1], entry.first) == 0; });
  if (named == std::end(types)) {
    std::printf("usage: repack-kernels q8_0|f32|bf16\n");
    return 2;
  }
  const ggml_type type = named->second;
  ggml_backend_t backend = ggml_backend_cpu_init();
  ggml_backend_cpu_set_n_threads(backend, 2);
  ggml_backend_buffer_type_t repack = RepackBufferType(backend);
  if (repack == nullptr) {
    std::printf("no CPU_REPACK buffer type in this build\n");
    return 2;
  }

  std::mt19937 random(17);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> weight_values(kOutputs * kInner);
  for (float& value : weight_values) value = normal(random);
  std::vector<uint8_t> weights(ggml_row_size(type, kInner) * kOutputs);
  ggml_quantize_chunk(type, weight_values.data(), weights.data(), 0, kOutputs, kInner, nullptr);
  // Activations with a wide range of magnitudes across blocks, as hidden states have.
  std::vector<float> activations(kMaxWidth * kInner);
  for (size_t i = 0; i < activations.size(); i++) activations[i] = normal(random) * (i % 97 == 0 ? 40.0f : 1.0f);

  const std::vector<float> w = AsFloats(type, weights, kOutputs);
  // what the kernel multiplies: Q8_0 weights take activations quantized to Q8_0, bf16 ones rounded to
  // bf16, f32 ones as they are
  std::vector<uint8_t> kernel_activations(ggml_row_size(type, kInner) * kMaxWidth);
  ggml_get_type_traits_cpu(type)->from_float(activations.data(), kernel_activations.data(), kMaxWidth * kInner);
  const std::vector<float> a = AsFloats(type, kernel_activations, kMaxWidth);

  std::vector<std::vector<float>> alone(kMaxWidth);
  for (int column = 0; column < kMaxWidth; column++) {
    std::vector<float> one(activations.begin() + column * kInner, activations.begin() + (column + 1) * kInner);
    alone[column] = Multiply(backend, repack, type, weights, one, 1).values;
  }
  const std::vector<float> plain =
      Multiply(backend, ggml_backend_cpu_buffer_type(), type, weights, activations, kMaxWidth).values;
  std::vector<float> bias(kOutputs);
  for (float& value : bias) value = normal(random);

  int failures = 0;
  int bias_failures = 0;
  int product_written = 0;
  double worst_to_reference = 0;
  double worst_to_plain = 0;
  for (int width : kWidths) {
    const std::vector<float> out = Multiply(backend, repack, type, weights, activations, width).values;
    const Product with_bias = Multiply(backend, repack, type, weights, activations, width, &bias);
    product_written += with_bias.product_written ? 1 : 0;
    for (int column = 0; column < width; column++) {
      for (int row = 0; row < kOutputs; row++) {
        const float value = out[column * kOutputs + row];
        const float plus_bias = value + bias[row];
        if (std::memcmp(&with_bias.values[column * kOutputs + row], &plus_bias, sizeof(float)) != 0) {
          if (bias_failures++ < 5)
            std::fprintf(stderr, "width %d column %d row %d with bias: %.9g, product + bias %.9g\n", width, column, row,
                         with_bias.values[column * kOutputs + row], plus_bias);
        }
        if (std::memcmp(&value, &alone[column][row], sizeof(float)) != 0) {
          if (failures++ < 5)
            std::fprintf(stderr, "width %d column %d row %d: %.9g, alone %.9g\n", width, column, row, value,
                         alone[column][row]);
        }
        double exact = 0;
        double magnitude = 0;
        for (int64_t k = 0; k < kInner; k++) {
          const double product = double(w[row * kInner + k]) * double(a[column * kInner + k]);
          exact += product;
          magnitude += std::fabs(product);
        }
        worst_to_reference = std::fmax(worst_to_reference, std::fabs(value - exact) / magnitude);
        worst_to_plain = std::fmax(worst_to_plain, std::fabs(value - plain[column * kOutputs + row]) / magnitude);
      }
    }
  }
  std::printf(
      "%s repacked product: %d values differing from the column alone; worst error / sum|products|: %.2e to the double "
      "reference, %.2e to the unrepacked product; with a bias ADD: %d values differing from product + bias, the "
      "product's own tensor written in %d of %zu widths\n",
      ggml_type_name(type), failures, worst_to_reference, worst_to_plain, bias_failures, product_written,
      std::size(kWidths));
  ggml_backend_free(backend);
  return failures == 0 && worst_to_reference <= 1e-5 && worst_to_plain <= 1e-5 && bias_failures == 0 &&
                 product_written == 0
             ? 0
             : 1;
}
