#include "layer_capture.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "ggml-backend.h"

namespace {

bool ParseIndexed(const char* name, const char* pattern, int32_t* index) {
  int consumed = 0;
  return std::sscanf(name, pattern, index, &consumed) == 1 && name[consumed] == '\0';
}

}  // namespace

bool LayerCapture::Callback(ggml_tensor* tensor, bool ask, void* user_data) {
  auto* self = static_cast<LayerCapture*>(user_data);
  if (self->layers_.empty()) return !ask;
  if (ask) return self->SlotOf(self->LayerOf(tensor)) >= 0;
  return self->Copy(tensor);
}

void LayerCapture::Begin(std::vector<int32_t> layers, size_t token_count, size_t width) {
  layers_ = std::move(layers);
  captured_.assign(layers_.size(), false);
  token_count_ = token_count;
  width_ = width;
  data_.assign(layers_.size() * token_count * width, 0.0f);
  error_.clear();
}

void LayerCapture::End() {
  layers_.clear();
  captured_.clear();
}

// Decoder graphs name each block's output "l_out-N". BERT-family graphs leave block outputs
// unnamed: there a block ends with the ADD of its output LayerNorm bias, and the embedding
// output with the ADD of the embedding LayerNorm bias.
int32_t LayerCapture::LayerOf(const ggml_tensor* tensor) const {
  int32_t index = -1;
  if (ParseIndexed(tensor->name, "l_out-%d%n", &index)) return index + 1;
  const ggml_tensor* addend = tensor->src[1];
  if (tensor->op != GGML_OP_ADD || addend == nullptr) return -1;
  if (ParseIndexed(addend->name, "blk.%d.layer_output_norm.bias%n", &index)) return index + 1;
  if (std::strcmp(addend->name, "token_embd_norm.bias") == 0) return 0;
  return -1;
}

int32_t LayerCapture::SlotOf(int32_t layer) const {
  if (layer < 0) return -1;
  auto found = std::find(layers_.begin(), layers_.end(), layer);
  return found == layers_.end() ? -1 : static_cast<int32_t>(found - layers_.begin());
}

bool LayerCapture::Copy(ggml_tensor* tensor) {
  const int32_t slot = SlotOf(LayerOf(tensor));
  if (slot < 0) return true;
  if (tensor->type != GGML_TYPE_F32 || static_cast<size_t>(tensor->ne[0]) != width_ ||
      static_cast<size_t>(tensor->ne[1]) != token_count_ || !ggml_is_contiguous(tensor)) {
    error_ = "layer " + std::to_string(layers_[slot]) + " has an unexpected shape in the graph";
    return true;
  }
  ggml_backend_tensor_get(tensor, data_.data() + static_cast<size_t>(slot) * token_count_ * width_, 0,
                          token_count_ * width_ * sizeof(float));
  captured_[slot] = true;
  return true;
}

std::string LayerCapture::MissingLayers(const std::string& architecture) const {
  if (!error_.empty()) return error_;
  std::string missing;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (!captured_[i]) missing += (missing.empty() ? "" : ", ") + std::to_string(layers_[i]);
  }
  if (missing.empty()) return "";
  return "layer(s) " + missing + " could not be found in the " + architecture + " graph";
}

std::vector<float> LayerCapture::Take() { return std::move(data_); }
