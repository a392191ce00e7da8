#include "model.h"

#include <string>
#include <vector>

#include "addon_data.h"
#include "create_context_worker.h"
#include "load_model_worker.h"

namespace {

const char* VocabularyTypeName(enum llama_vocab_type type) {
  switch (type) {
    case LLAMA_VOCAB_TYPE_SPM:
      return "spm";
    case LLAMA_VOCAB_TYPE_BPE:
      return "bpe";
    case LLAMA_VOCAB_TYPE_WPM:
      return "wpm";
    case LLAMA_VOCAB_TYPE_UGM:
      return "ugm";
    case LLAMA_VOCAB_TYPE_RWKV:
      return "rwkv";
    case LLAMA_VOCAB_TYPE_PLAMO2:
      return "plamo2";
    default:
      return "none";
  }
}

// llama.cpp's string getters return the full length even when the buffer was too small.
template <typename Getter>
std::string ReadString(Getter getter) {
  std::vector<char> buffer(256);
  int32_t length = getter(buffer.data(), buffer.size());
  if (length < 0) return "";
  if (static_cast<size_t>(length) >= buffer.size()) {
    buffer.resize(static_cast<size_t>(length) + 1);
    length = getter(buffer.data(), buffer.size());
  }
  return std::string(buffer.data(), static_cast<size_t>(length));
}

}  // namespace

void Model::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = DefineClass(env, "Model",
                                           {
                                               InstanceMethod<&Model::Metadata>("metadata"),
                                               InstanceMethod<&Model::Tokenize>("tokenize"),
                                               InstanceMethod<&Model::TokenPieces>("tokenPieces"),
                                               InstanceMethod<&Model::TokenAttributes>("tokenAttributes"),
                                               InstanceMethod<&Model::CreateEmbeddingContext>("createEmbeddingContext"),
                                               InstanceMethod<&Model::Dispose>("dispose"),
                                               InstanceAccessor<&Model::IsDisposed>("disposed"),
                                           });
  AddonData::Of(env).model_constructor = Napi::Persistent(constructor);
  exports.Set("Model", constructor);
  exports.Set("loadModel", Napi::Function::New<&Model::Load>(env, "loadModel"));
}

Napi::Object Model::NewInstance(Napi::Env env, ModelHandle handle) {
  auto* transfer = new ModelHandle(std::move(handle));
  return AddonData::Of(env).model_constructor.New({Napi::External<ModelHandle>::New(env, transfer)});
}

Model::Model(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Model>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "Model cannot be constructed directly: use loadModel(path)");
  }
  std::unique_ptr<ModelHandle> transfer(info[0].As<Napi::External<ModelHandle>>().Data());
  handle_ = std::move(*transfer);
}

// loadModel(path: string, options: {gpuLayers: number, useMmap: boolean, repackWeights: boolean}): Promise<Model>
Napi::Value Model::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
    throw Napi::TypeError::New(env, "loadModel(path: string, options: object) expected");
  }
  Napi::Object options = info[1].As<Napi::Object>();
  llama_model_params params = llama_model_default_params();
  params.n_gpu_layers = options.Get("gpuLayers").As<Napi::Number>().Int32Value();
  params.use_extra_bufts = options.Get("repackWeights").ToBoolean().Value();
  params.load_mode = options.Get("useMmap").As<Napi::Boolean>().Value() ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
  auto* worker = new LoadModelWorker(env, info[0].As<Napi::String>().Utf8Value(), params);
  worker->Queue();
  return worker->Promise();
}

const llama_model* Model::Require(Napi::Env env) const {
  if (!handle_) throw Napi::Error::New(env, "the model has been disposed");
  return handle_.get();
}

Napi::Value Model::Metadata(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const llama_model* model = Require(env);
  const llama_vocab* vocab = llama_model_get_vocab(model);

  Napi::Object result = Napi::Object::New(env);
  result.Set("description", ReadString([&](char* b, size_t n) { return llama_model_desc(model, b, n); }));
  result.Set("sizeBytes", static_cast<double>(llama_model_size(model)));
  result.Set("parameterCount", static_cast<double>(llama_model_n_params(model)));
  result.Set("embeddingLength", llama_model_n_embd_out(model));
  result.Set("hiddenLength", llama_model_n_embd(model));
  result.Set("layerCount", llama_model_n_layer(model));
  result.Set("headCount", llama_model_n_head(model));
  result.Set("trainingContextLength", llama_model_n_ctx_train(model));
  result.Set("hasEncoder", llama_model_has_encoder(model));
  result.Set("hasDecoder", llama_model_has_decoder(model));
  result.Set("isRecurrent", llama_model_is_recurrent(model));
  result.Set("vocabularyType", VocabularyTypeName(llama_vocab_type(vocab)));
  result.Set("vocabularySize", llama_vocab_n_tokens(vocab));

  Napi::Object special = Napi::Object::New(env);
  special.Set("bos", llama_vocab_bos(vocab));
  special.Set("eos", llama_vocab_eos(vocab));
  special.Set("eot", llama_vocab_eot(vocab));
  special.Set("sep", llama_vocab_sep(vocab));
  special.Set("pad", llama_vocab_pad(vocab));
  special.Set("mask", llama_vocab_mask(vocab));
  special.Set("addBos", llama_vocab_get_add_bos(vocab));
  special.Set("addEos", llama_vocab_get_add_eos(vocab));
  special.Set("addSep", llama_vocab_get_add_sep(vocab));
  result.Set("specialTokens", special);

  Napi::Object entries = Napi::Object::New(env);
  const int32_t count = llama_model_meta_count(model);
  for (int32_t i = 0; i < count; ++i) {
    std::string key = ReadString([&](char* b, size_t n) { return llama_model_meta_key_by_index(model, i, b, n); });
    entries.Set(key, ReadString([&](char* b, size_t n) { return llama_model_meta_val_str_by_index(model, i, b, n); }));
  }
  result.Set("entries", entries);
  return result;
}

// tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array
Napi::Value Model::Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const llama_model* model = Require(env);
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsBoolean() || !info[2].IsBoolean()) {
    throw Napi::TypeError::New(env, "tokenize(text: string, addSpecial: boolean, parseSpecial: boolean) expected");
  }
  const std::string text = info[0].As<Napi::String>().Utf8Value();
  const bool add_special = info[1].As<Napi::Boolean>().Value();
  const bool parse_special = info[2].As<Napi::Boolean>().Value();
  const llama_vocab* vocab = llama_model_get_vocab(model);
  if (text.size() > static_cast<size_t>(INT32_MAX) - 16)
    throw Napi::RangeError::New(env, "text is too long to tokenize");

  std::vector<llama_token> tokens(text.size() + 8);
  int32_t count = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                                 static_cast<int32_t>(tokens.size()), add_special, parse_special);
  if (count < 0) {
    tokens.resize(static_cast<size_t>(-count));
    count = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                           static_cast<int32_t>(tokens.size()), add_special, parse_special);
  }
  if (count < 0) throw Napi::Error::New(env, "llama_tokenize failed");
  Napi::Int32Array result = Napi::Int32Array::New(env, static_cast<size_t>(count));
  std::copy(tokens.begin(), tokens.begin() + count, result.Data());
  return result;
}

Napi::Int32Array Model::RequireTokenIds(const Napi::CallbackInfo& info, const llama_vocab* vocab) const {
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(info.Env(), "an Int32Array of token ids expected");
  }
  Napi::Int32Array ids = info[0].As<Napi::Int32Array>();
  const int32_t vocabulary_size = llama_vocab_n_tokens(vocab);
  for (size_t i = 0; i < ids.ElementLength(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocabulary_size) {
      throw Napi::RangeError::New(info.Env(), "token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) +
                                                  " is outside the vocabulary [0, " + std::to_string(vocabulary_size) +
                                                  ")");
    }
  }
  return ids;
}

// tokenPieces(ids: Int32Array): {bytes: Uint8Array, ends: Uint32Array}
// Pieces are bytes, not strings: a byte-level token can hold part of a UTF-8 character.
Napi::Value Model::TokenPieces(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const llama_vocab* vocab = llama_model_get_vocab(Require(env));
  Napi::Int32Array ids = RequireTokenIds(info, vocab);

  std::vector<char> bytes;
  Napi::Uint32Array ends = Napi::Uint32Array::New(env, ids.ElementLength());
  char buffer[256];
  for (size_t i = 0; i < ids.ElementLength(); ++i) {
    int32_t length = llama_token_to_piece(vocab, ids[i], buffer, sizeof(buffer), 0, true);
    if (length < 0)
      throw Napi::Error::New(env, "token " + std::to_string(ids[i]) + " has a piece longer than 256 bytes");
    bytes.insert(bytes.end(), buffer, buffer + length);
    ends[i] = static_cast<uint32_t>(bytes.size());
  }
  Napi::Uint8Array data = Napi::Uint8Array::New(env, bytes.size());
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(data.Data()));
  Napi::Object result = Napi::Object::New(env);
  result.Set("bytes", data);
  result.Set("ends", ends);
  return result;
}

// tokenAttributes(ids: Int32Array): Uint32Array of llama_token_attr bit sets
Napi::Value Model::TokenAttributes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const llama_vocab* vocab = llama_model_get_vocab(Require(env));
  Napi::Int32Array ids = RequireTokenIds(info, vocab);
  Napi::Uint32Array result = Napi::Uint32Array::New(env, ids.ElementLength());
  for (size_t i = 0; i < ids.ElementLength(); ++i)
    result[i] = static_cast<uint32_t>(llama_vocab_get_attr(vocab, ids[i]));
  return result;
}

// createEmbeddingContext(options): Promise<EmbeddingContext>; see CreateContextWorker for the options.
Napi::Value Model::CreateEmbeddingContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Require(env);
  if (info.Length() < 1 || !info[0].IsObject())
    throw Napi::TypeError::New(env, "createEmbeddingContext(options: object) expected");
  auto* worker = new CreateContextWorker(env, handle_, info[0].As<Napi::Object>());
  worker->Queue();
  return worker->Promise();
}

Napi::Value Model::Dispose(const Napi::CallbackInfo& info) {
  handle_.reset();
  return info.Env().Undefined();
}

Napi::Value Model::IsDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !handle_); }
