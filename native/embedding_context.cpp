#include "embedding_context.h"

#include <string>
#include <vector>

#include "addon_data.h"
#include "embed_worker.h"

void EmbeddingContext::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = DefineClass(env, "EmbeddingContext",
                                           {
                                               InstanceMethod<&EmbeddingContext::Embed>("embed"),
                                               InstanceMethod<&EmbeddingContext::Dispose>("dispose"),
                                               InstanceMethod<&EmbeddingContext::Limits>("limits"),
                                               InstanceAccessor<&EmbeddingContext::IsDisposed>("disposed"),
                                           });
  AddonData::Of(env).embedding_context_constructor = Napi::Persistent(constructor);
  exports.Set("EmbeddingContext", constructor);
}

Napi::Object EmbeddingContext::NewInstance(Napi::Env env, std::shared_ptr<ContextResources> resources) {
  auto* transfer = new std::shared_ptr<ContextResources>(std::move(resources));
  return AddonData::Of(env).embedding_context_constructor.New(
      {Napi::External<std::shared_ptr<ContextResources>>::New(env, transfer)});
}

EmbeddingContext::EmbeddingContext(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EmbeddingContext>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(),
                               "EmbeddingContext cannot be constructed directly: use model.createEmbeddingContext()");
  }
  std::unique_ptr<std::shared_ptr<ContextResources>> transfer(
      info[0].As<Napi::External<std::shared_ptr<ContextResources>>>().Data());
  resources_ = std::move(*transfer);
}

// embed(tokens: Int32Array, sequenceLengths: Uint32Array,
//       options: {tokenVectors: boolean, layers: Int32Array, lastTokenOnly?: boolean, prefix?: Int32Array,
//                 inputRanges?: boolean})
//   : Promise<{pooled: Float32Array | null, tokens: Float32Array | null, layers: Float32Array | null,
//              inputRanges: {[weight: string]: Float32Array} | null}>
Napi::Value EmbeddingContext::Embed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!resources_) throw Napi::Error::New(env, "the embedding context has been disposed");
  if (busy_)
    throw Napi::Error::New(env, "the embedding context is already computing: calls on one context must not overlap");
  if (info.Length() < 3 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array || !info[2].IsObject()) {
    throw Napi::TypeError::New(env,
                               "embed(tokens: Int32Array, sequenceLengths: Uint32Array, options: object) expected");
  }
  Napi::Int32Array tokens = info[0].As<Napi::Int32Array>();
  Napi::Uint32Array lengths = info[1].As<Napi::Uint32Array>();
  Napi::Object options = info[2].As<Napi::Object>();
  Napi::Value layers_value = options.Get("layers");
  if (!layers_value.IsTypedArray() || layers_value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(env, "option layers must be an Int32Array");
  }
  Napi::Int32Array layers = layers_value.As<Napi::Int32Array>();

  EmbedRequest request;
  request.tokens.assign(tokens.Data(), tokens.Data() + tokens.ElementLength());
  request.sequence_lengths.assign(lengths.Data(), lengths.Data() + lengths.ElementLength());
  request.layers.assign(layers.Data(), layers.Data() + layers.ElementLength());
  request.token_vectors = options.Get("tokenVectors").ToBoolean().Value();
  request.last_token_only = options.Get("lastTokenOnly").ToBoolean().Value();
  request.input_ranges = options.Get("inputRanges").ToBoolean().Value();
  Napi::Value prefix_value = options.Get("prefix");
  if (!prefix_value.IsUndefined()) {
    if (!prefix_value.IsTypedArray() || prefix_value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      throw Napi::TypeError::New(env, "option prefix must be an Int32Array");
    }
    Napi::Int32Array prefix = prefix_value.As<Napi::Int32Array>();
    request.prefix.assign(prefix.Data(), prefix.Data() + prefix.ElementLength());
  }

  std::string problem = EmbedWorker::Validate(*resources_, request);
  if (!problem.empty()) throw Napi::RangeError::New(env, problem);

  auto* worker = new EmbedWorker(env, this, resources_, std::move(request));
  busy_ = true;
  worker->Queue();
  return worker->Promise();
}

Napi::Value EmbeddingContext::Limits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!resources_) throw Napi::Error::New(env, "the embedding context has been disposed");
  llama_context* context = resources_->context;
  Napi::Object result = Napi::Object::New(env);
  result.Set("contextTokens", llama_n_ctx(context));
  result.Set("sequenceTokens", llama_n_ctx_seq(context));
  result.Set("batchTokens", llama_n_batch(context));
  result.Set("microBatchTokens", llama_n_ubatch(context));
  result.Set("maxSequences", llama_n_seq_max(context));
  result.Set("pooling", static_cast<int32_t>(llama_pooling_type(context)));
  return result;
}

Napi::Value EmbeddingContext::Dispose(const Napi::CallbackInfo& info) {
  resources_.reset();
  return info.Env().Undefined();
}

Napi::Value EmbeddingContext::IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !resources_);
}
