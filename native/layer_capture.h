#pragma once

#include <string>
#include <vector>

#include "ggml.h"

// Copies the hidden states of chosen layers out of the graph while llama.cpp computes it
// (installed as the context's cb_eval). Layer 0 is the embedding output, layer L the output
// of transformer block L. When nothing is requested it declines every tensor, so the
// scheduler computes the graph in one piece as it would without a callback.
class LayerCapture {
 public:
  static bool Callback(ggml_tensor* tensor, bool ask, void* user_data);

  void Begin(std::vector<int32_t> layers, size_t token_count, size_t width);
  // Hidden states as [requested layer][token][width]; empty string when all layers were found.
  std::string MissingLayers(const std::string& architecture) const;
  std::vector<float> Take();
  void End();

 private:
  int32_t LayerOf(const ggml_tensor* tensor) const;
  int32_t SlotOf(int32_t layer) const;
  bool Copy(ggml_tensor* tensor);

  std::vector<int32_t> layers_;
  std::vector<bool> captured_;
  std::vector<float> data_;
  size_t token_count_ = 0;
  size_t width_ = 0;
  std::string error_;
};
