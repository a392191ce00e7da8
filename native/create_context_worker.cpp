#include "create_context_worker.h"

#include "embedding_context.h"
#include "llama_log.h"

namespace {

// LLAMA_MAX_SEQ in llama.cpp's internal src/llama-cparams.h, which the public header does not export.
constexpr uint32_t kMaxSequences = 256;

uint32_t PositiveOption(Napi::Object options, const char* name, uint32_t max) {
  Napi::Value value = options.Get(name);
  if (!value.IsNumber()) throw Napi::TypeError::New(options.Env(), std::string("option ") + name + " must be a number");
  const int64_t number = value.As<Napi::Number>().Int64Value();
  if (number < 1 || number > max) {
    throw Napi::RangeError::New(options.Env(),
                                std::string("option ") + name + " must be in [1, " + std::to_string(max) + "]");
  }
  return static_cast<uint32_t>(number);
}

}  // namespace

CreateContextWorker::CreateContextWorker(Napi::Env env, ModelHandle model, Napi::Object options)
    : PromiseWorker(env), resources_(std::make_shared<ContextResources>()), params_(llama_context_default_params()) {
  const uint32_t context_tokens = PositiveOption(options, "contextTokens", 1u << 20);
  const uint32_t batch_tokens = PositiveOption(options, "batchTokens", context_tokens);
  const uint32_t micro_batch_tokens = PositiveOption(options, "microBatchTokens", batch_tokens);
  // llama.cpp asserts when a batch holds more sequences than it reserved outputs for.
  const uint32_t max_sequences = PositiveOption(options, "maxSequences", std::min(kMaxSequences, batch_tokens));
  const uint32_t threads = PositiveOption(options, "threads", 1024);
  Napi::Value pooling = options.Get("pooling");
  if (!pooling.IsNumber()) throw Napi::TypeError::New(env, "option pooling must be a llama_pooling_type number");
  const int32_t pooling_type = pooling.As<Napi::Number>().Int32Value();
  if (pooling_type < LLAMA_POOLING_TYPE_NONE || pooling_type > LLAMA_POOLING_TYPE_LAST) {
    throw Napi::RangeError::New(env, "option pooling must be one of none (0), mean (1), cls (2), last (3)");
  }
  Napi::Value separate = options.Get("separateSequences");
  if (!separate.IsBoolean()) throw Napi::TypeError::New(env, "option separateSequences must be a boolean");
  Napi::Value causal = options.Get("causal");
  if (!causal.IsBoolean()) throw Napi::TypeError::New(env, "option causal must be a boolean");
  if (!causal.As<Napi::Boolean>().Value() && micro_batch_tokens != batch_tokens) {
    throw Napi::RangeError::New(env, "a non-causal model needs microBatchTokens == batchTokens");
  }

  resources_->model = std::move(model);
  resources_->causal = causal.As<Napi::Boolean>().Value();
  resources_->position_limit = static_cast<uint32_t>(llama_model_n_ctx_train(resources_->model.get()));
  params_.n_ctx = context_tokens;
  params_.n_batch = batch_tokens;
  params_.n_ubatch = micro_batch_tokens;
  params_.n_seq_max = max_sequences;
  params_.n_threads = static_cast<int32_t>(threads);
  params_.n_threads_batch = static_cast<int32_t>(threads);
  params_.pooling_type = static_cast<enum llama_pooling_type>(pooling_type);
  params_.embeddings = true;
  // A unified cache runs one masked attention over all packed sequences; a stream per sequence
  // keeps each sequence's cells where they would be if it were evaluated alone, so that its
  // attention sums run in the same order and a decoder's vectors do not depend on their batch
  // mates (in a unified cache they move by up to 1e-3 in cosine on CPU).
  params_.kv_unified = !separate.As<Napi::Boolean>().Value();
  params_.flash_attn_type =
      options.Get("flashAttention").ToBoolean().Value() ? LLAMA_FLASH_ATTN_TYPE_AUTO : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  params_.no_perf = true;
  params_.cb_eval = &ContextResources::EvalCallback;
  params_.cb_eval_user_data = resources_.get();
}

void CreateContextWorker::Execute() {
  LlamaLog::ClearThreadErrors();
  resources_->context = llama_init_from_model(resources_->model.get(), params_);
  if (resources_->context == nullptr) {
    std::string said = LlamaLog::TakeThreadErrors();
    SetError("llama.cpp could not create an embedding context" + (said.empty() ? std::string() : ": " + said));
    return;
  }
  ggml_threadpool_params pool_params = ggml_threadpool_params_default(params_.n_threads);
  resources_->threadpool = ggml_threadpool_new(&pool_params);
  if (resources_->threadpool == nullptr) {
    SetError("ggml could not start " + std::to_string(params_.n_threads) + " threads for the embedding context");
    return;
  }
  llama_attach_threadpool(resources_->context, resources_->threadpool, resources_->threadpool);
  char architecture[128] = {0};
  llama_model_meta_val_str(resources_->model.get(), "general.architecture", architecture, sizeof(architecture));
  resources_->architecture = architecture;
}

Napi::Value CreateContextWorker::Result(Napi::Env env) {
  return EmbeddingContext::NewInstance(env, std::move(resources_));
}
