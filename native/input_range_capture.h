#pragma once

#include <map>
#include <string>
#include <vector>

#include "ggml.h"

// Measures, while llama.cpp computes a graph, the largest |value| of each input channel of every
// product with a named weight ("blk.0.attn_q.weight"): the activation ranges ctxembed's quantizer
// balances against the weights' (lib/hub/smoothing.ts). Installed beside LayerCapture as the
// context's cb_eval; inactive, it declines every tensor.
class InputRangeCapture {
 public:
  static bool Callback(ggml_tensor* tensor, bool ask, void* user_data);

  void Begin();
  // weight name -> per-channel range over every row the products saw; ends the measurement
  std::map<std::string, std::vector<float>> Take();
  void End();

 private:
  static bool IsWeightProduct(const ggml_tensor* tensor);
  void Record(const ggml_tensor* product);

  bool active_ = false;
  std::map<std::string, std::vector<float>> ranges_;
};
