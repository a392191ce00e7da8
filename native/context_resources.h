#pragma once

#include <string>

#include "ggml-cpu.h"
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
  std::string architecture;
  // Encoders without a KV cache need the whole batch in one ubatch; causal models can split.
  bool causal = true;
  uint32_t position_limit = 0;

  ContextResources() = default;
  ContextResources(const ContextResources&) = delete;
  ContextResources& operator=(const ContextResources&) = delete;
  ~ContextResources() {
    if (context != nullptr) llama_free(context);
    if (threadpool != nullptr) ggml_threadpool_free(threadpool);
  }
};
