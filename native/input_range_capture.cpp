#include "input_range_capture.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ggml-backend.h"

bool InputRangeCapture::Callback(ggml_tensor* tensor, bool ask, void* user_data) {
  auto* self = static_cast<InputRangeCapture*>(user_data);
  if (!self->active_ || !IsWeightProduct(tensor)) return !ask;
  if (!ask) self->Record(tensor);
  return true;
}

void InputRangeCapture::Begin() {
  active_ = true;
  ranges_.clear();
}

std::map<std::string, std::vector<float>> InputRangeCapture::Take() {
  active_ = false;
  return std::move(ranges_);
}

void InputRangeCapture::End() {
  active_ = false;
  ranges_.clear();
}

bool InputRangeCapture::IsWeightProduct(const ggml_tensor* tensor) {
  if (tensor->op != GGML_OP_MUL_MAT || tensor->src[0] == nullptr || tensor->src[1] == nullptr) return false;
  const char* name = tensor->src[0]->name;
  const size_t length = std::strlen(name);
  constexpr char suffix[] = ".weight";
  return length > sizeof(suffix) - 1 && std::strcmp(name + length - (sizeof(suffix) - 1), suffix) == 0;
}

// The input rows are read one at a time, so views with gaps between rows are measured too.
void InputRangeCapture::Record(const ggml_tensor* product) {
  const ggml_tensor* input = product->src[1];
  if (input->type != GGML_TYPE_F32 || input->nb[0] != sizeof(float)) return;
  const size_t width = static_cast<size_t>(input->ne[0]);
  std::vector<float>& ranges = ranges_[product->src[0]->name];
  ranges.resize(width, 0.0f);
  std::vector<float> row(width);
  for (int64_t i3 = 0; i3 < input->ne[3]; ++i3) {
    for (int64_t i2 = 0; i2 < input->ne[2]; ++i2) {
      for (int64_t i1 = 0; i1 < input->ne[1]; ++i1) {
        const size_t offset = i1 * input->nb[1] + i2 * input->nb[2] + i3 * input->nb[3];
        ggml_backend_tensor_get(input, row.data(), offset, width * sizeof(float));
        for (size_t j = 0; j < width; ++j) ranges[j] = std::max(ranges[j], std::fabs(row[j]));
      }
    }
  }
}
