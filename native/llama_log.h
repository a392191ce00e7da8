#pragma once

#include <string>

#include "ggml.h"

// Routes llama.cpp's log output: silent unless CTXEMBED_LLAMA_LOG is set, while the error
// lines a failing call printed on the current thread are kept so that the exception thrown
// to JavaScript can say what llama.cpp said.
class LlamaLog {
 public:
  static void Install();
  static void ClearThreadErrors();
  static std::string TakeThreadErrors();

 private:
  static void Callback(ggml_log_level level, const char* text, void* user_data);
};
