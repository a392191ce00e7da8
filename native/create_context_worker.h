#pragma once

#include <memory>

#include "context_resources.h"
#include "promise_worker.h"

// Options object: {contextTokens, batchTokens, microBatchTokens, maxSequences, threads,
// pooling (llama_pooling_type), causal (whether the model attends causally), flashAttention,
// separateSequences (a KV stream per sequence instead of one unified cache)}.
class CreateContextWorker : public PromiseWorker {
 public:
  CreateContextWorker(Napi::Env env, ModelHandle model, Napi::Object options);

 protected:
  void Execute() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::shared_ptr<ContextResources> resources_;
  llama_context_params params_;
};
