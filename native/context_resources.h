#pragma once

#include <string>

#include "ggml-cpu.h"
#include "input_range_capture.h"
#include "layer_capture.h"
#include "llama.h"
#include "model.h"

// What one embedding context owns. Held by the JavaScript object and by any worker computing
// on it, so disposing during a computation frees it once that computation ends.
struct ContextResources {
  ModelHandle model;
  llama_context* context = nullptr;
  // ggml's threads for this context, kept between computations: without one, ggml starts and
  // joins fresh threads for every micro-batch, and on two busy cores the first thread then
  // spins at the graph's first barrier until the scheduler places the new one (3-7 ms each).
  ggml_threadpool* threadpool = nullptr;
  LayerCapture capture;
  InputRangeCapture input_ranges;
  std::string architecture;
  // Encoders without a KV cache need the whole batch in one ubatch; causal models can split.
  bool causal = true;
  uint32_t position_limit = 0;

  // The context's cb_eval: both captures see every tensor. Asked, it says whether either wants
  // the tensor; handed one, whether to go on computing.
  static bool EvalCallback(ggml_tensor* tensor, bool ask, void* user_data) {
    auto* self = static_cast<ContextResources*>(user_data);
    const bool layers = LayerCapture::Callback(tensor, ask, &self->capture);
    const bool ranges = InputRangeCapture::Callback(tensor, ask, &self->input_ranges);
    return ask ? layers || ranges : layers && ranges;
  }

  ContextResources() = default;
  ContextResources(const ContextResources&) = delete;
  ContextResources& operator=(const ContextResources&) = delete;
  ~ContextResources() {
    if (context != nullptr) llama_free(context);
    if (threadpool != nullptr) ggml_threadpool_free(threadpool);
  }
};
