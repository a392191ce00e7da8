#pragma once

#include <string>

#include "layer_capture.h"
#include "llama.h"
#include "model.h"

// What one embedding context owns. Held by the JavaScript object and by any worker computing
// on it, so disposing during a computation frees it once that computation ends.
struct ContextResources {
  ModelHandle model;
  llama_context* context = nullptr;
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
  }
};
