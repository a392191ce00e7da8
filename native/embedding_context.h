#pragma once

#include <memory>

#include <napi.h>

#include "context_resources.h"

// One llama.cpp context in embedding mode. Calls must not overlap (the JavaScript layer queues
// them); an overlapping call is rejected rather than allowed to race on the context.
class EmbeddingContext : public Napi::ObjectWrap<EmbeddingContext> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ContextResources> resources);
  explicit EmbeddingContext(const Napi::CallbackInfo& info);

  void FinishCall() { busy_ = false; }

 private:
  Napi::Value Embed(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Limits(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);

  std::shared_ptr<ContextResources> resources_;
  bool busy_ = false;
};
