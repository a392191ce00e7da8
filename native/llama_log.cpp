#include "llama_log.h"

#include <cstdio>
#include <cstdlib>

#include "llama.h"

namespace {
thread_local std::string thread_errors;
thread_local bool continuing_error = false;
bool echo_to_stderr = false;
}  // namespace

void LlamaLog::Install() {
  const char* setting = std::getenv("CTXEMBED_LLAMA_LOG");
  echo_to_stderr = setting != nullptr && setting[0] != '\0' && setting[0] != '0';
  llama_log_set(&LlamaLog::Callback, nullptr);
}

void LlamaLog::ClearThreadErrors() { thread_errors.clear(); }

std::string LlamaLog::TakeThreadErrors() {
  std::string errors;
  errors.swap(thread_errors);
  while (!errors.empty() && (errors.back() == '\n' || errors.back() == ' ')) errors.pop_back();
  return errors;
}

void LlamaLog::Callback(ggml_log_level level, const char* text, void*) {
  if (echo_to_stderr) std::fputs(text, stderr);
  // GGML_LOG_LEVEL_CONT continues the previous message, whatever its level was.
  const bool is_error = level == GGML_LOG_LEVEL_ERROR || (level == GGML_LOG_LEVEL_CONT && continuing_error);
  if (level != GGML_LOG_LEVEL_CONT) continuing_error = level == GGML_LOG_LEVEL_ERROR;
  if (is_error && thread_errors.size() < 4096) thread_errors += text;
}
