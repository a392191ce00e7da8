// A matrix product through ggml's public API, as scripts/bench/kernels.cpp times it and
// test/model/native/repack-kernels.cpp checks it: a weight matrix in a buffer of a chosen type (the
// CPU backend's repacking one, or its plain one) times f32 activations, optionally followed by the
// ADD of a bias row (which ggml-cpu fuses into ctxembed's repacked kernels).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml.h"

// The CPU backend's repacking buffer type (CPU_REPACK), or null in a build without one.
inline ggml_backend_buffer_type_t RepackBufferType(ggml_backend_t backend) {
  ggml_backend_dev_t device = ggml_backend_get_device(backend);
  auto extra_types = reinterpret_cast<ggml_backend_dev_get_extra_bufts_t>(
      ggml_backend_reg_get_proc_address(ggml_backend_dev_backend_reg(device), "ggml_backend_dev_get_extra_bufts"));
  if (extra_types == nullptr) return nullptr;
  for (ggml_backend_buffer_type_t* type = extra_types(device); *type != nullptr; type++) {
    if (std::strcmp(ggml_backend_buft_name(*type), "CPU_REPACK") == 0) return *type;
  }
  return nullptr;
}

// outputs x inner weights of `type` (`data` as ggml stores that type) in a buffer of `buffer_type`,
// which repacks them as it takes them where it is the repacking one.
class WeightMatrix {
 public:
  WeightMatrix(ggml_backend_buffer_type_t buffer_type, ggml_type type, int64_t inner, int64_t outputs,
               const std::vector<uint8_t>& data) {
    ggml_init_params params = {ggml_tensor_overhead(), nullptr, true};
    ctx_ = ggml_init(params);
    tensor_ = ggml_new_tensor_2d(ctx_, type, inner, outputs);
    buffer_ = ggml_backend_alloc_ctx_tensors_from_buft(ctx_, buffer_type);
    ggml_backend_tensor_set(tensor_, data.data(), 0, data.size());
  }
  ~WeightMatrix() {
    ggml_backend_buffer_free(buffer_);
    ggml_free(ctx_);
  }
  WeightMatrix(const WeightMatrix&) = delete;
  WeightMatrix& operator=(const WeightMatrix&) = delete;
  ggml_tensor* tensor() const { return tensor_; }

 private:
  ggml_context* ctx_;
  ggml_tensor* tensor_;
  ggml_backend_buffer_t buffer_;
};

// The weights times `width` columns of activations, plus a bias row where asked, allocated on
// `backend`; set the inputs, then compute `graph`.
class ProductGraph {
 public:
  ProductGraph(ggml_backend_t backend, ggml_tensor* weights, int64_t width, bool with_bias) {
    ggml_init_params params = {8 * ggml_tensor_overhead() + ggml_graph_overhead(), nullptr, true};
    ctx_ = ggml_init(params);
    activations = ggml_new_tensor_2d(ctx_, GGML_TYPE_F32, weights->ne[0], width);
    product = ggml_mul_mat(ctx_, weights, activations);
    bias = with_bias ? ggml_new_tensor_1d(ctx_, GGML_TYPE_F32, weights->ne[1]) : nullptr;
    output = bias != nullptr ? ggml_add(ctx_, product, bias) : product;
    graph = ggml_new_graph(ctx_);
    ggml_build_forward_expand(graph, output);
    buffer_ = ggml_backend_alloc_ctx_tensors(ctx_, backend);
  }
  ~ProductGraph() {
    ggml_backend_buffer_free(buffer_);
    ggml_free(ctx_);
  }
  ProductGraph(const ProductGraph&) = delete;
  ProductGraph& operator=(const ProductGraph&) = delete;

  ggml_tensor* activations;
  ggml_tensor* product;
  ggml_tensor* bias;  // null without one
  ggml_tensor* output;
  ggml_cgraph* graph;

 private:
  ggml_context* ctx_;
  ggml_backend_buffer_t buffer_;
};
