#pragma once

#include <memory>

#include <napi.h>

#include "llama.h"

using ModelHandle = std::shared_ptr<llama_model>;

// A loaded GGUF model. Contexts share ownership of the weights, so disposing the model while a
// context still computes only drops this object's claim; the weights go with the last user.
class Model : public Napi::ObjectWrap<Model> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object NewInstance(Napi::Env env, ModelHandle handle);
  explicit Model(const Napi::CallbackInfo& info);

 private:
  static Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value Metadata(const Napi::CallbackInfo& info);
  Napi::Value Tokenize(const Napi::CallbackInfo& info);
  Napi::Value TokenPieces(const Napi::CallbackInfo& info);
  Napi::Value TokenAttributes(const Napi::CallbackInfo& info);
  Napi::Value CreateEmbeddingContext(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);

  const llama_model* Require(Napi::Env env) const;
  Napi::Int32Array RequireTokenIds(const Napi::CallbackInfo& info, const llama_vocab* vocab) const;

  ModelHandle handle_;
};
