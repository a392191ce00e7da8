#include "embed_worker.h"

#include <algorithm>
#include <numeric>

#include "embedding_context.h"
#include "llama_log.h"

namespace {

// Hands a vector's storage to JavaScript without copying it.
Napi::Value ToFloat32Array(Napi::Env env, std::vector<float>&& values, bool present) {
  if (!present) return env.Null();
  if (values.empty()) return Napi::Float32Array::New(env, 0);
  auto* owned = new std::vector<float>(std::move(values));
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, owned->data(), owned->size() * sizeof(float),
      [](Napi::Env, void*, std::vector<float>* data) { delete data; }, owned);
  return Napi::Float32Array::New(env, owned->size(), buffer, 0);
}

class BatchGuard {
 public:
  explicit BatchGuard(int32_t tokens) : batch(llama_batch_init(tokens, 0, 1)) {}
  ~BatchGuard() { llama_batch_free(batch); }
  llama_batch batch;
};

}  // namespace

std::string EmbedWorker::Validate(const ContextResources& resources, const EmbedRequest& request) {
  llama_context* context = resources.context;
  const llama_model* model = resources.model.get();
  const size_t sequences = request.sequence_lengths.size();
  if (sequences == 0) return "a batch needs at least one sequence";
  if (sequences > llama_n_seq_max(context)) {
    return "a batch of " + std::to_string(sequences) + " sequences exceeds this context's maxSequences (" +
           std::to_string(llama_n_seq_max(context)) + ")";
  }
  size_t total = 0;
  for (size_t s = 0; s < sequences; ++s) {
    const uint32_t length = request.sequence_lengths[s];
    if (length == 0) return "sequence " + std::to_string(s) + " has no tokens";
    if (length > resources.position_limit) {
      return "sequence " + std::to_string(s) + " has " + std::to_string(length) + " tokens, more than the model's " +
             std::to_string(resources.position_limit) + " positions";
    }
    total += length;
  }
  if (total != request.tokens.size())
    return "sequenceLengths add up to " + std::to_string(total) + " but " + std::to_string(request.tokens.size()) +
           " tokens were given";
  const size_t capacity =
      resources.causal ? std::min(llama_n_batch(context), llama_n_ctx(context)) : llama_n_ubatch(context);
  if (total > capacity) {
    return "a batch of " + std::to_string(total) + " tokens exceeds this context's capacity of " +
           std::to_string(capacity) + " tokens";
  }
  const int32_t vocabulary_size = llama_vocab_n_tokens(llama_model_get_vocab(model));
  for (const std::vector<llama_token>* ids : {&request.tokens, &request.prefix}) {
    for (size_t i = 0; i < ids->size(); ++i) {
      if ((*ids)[i] < 0 || (*ids)[i] >= vocabulary_size) {
        return "token id " + std::to_string((*ids)[i]) + " at index " + std::to_string(i) +
               " is outside the vocabulary";
      }
    }
  }
  if (!request.prefix.empty()) {
    if (!resources.causal || llama_get_memory(context) == nullptr)
      return "a shared prefix needs a causal model with a KV cache";
    const size_t prefix = request.prefix.size();
    if (prefix > llama_n_batch(context) || prefix + total > llama_n_ctx(context)) {
      return "a prefix of " + std::to_string(prefix) + " tokens and " + std::to_string(total) +
             " more tokens exceed this context's " + std::to_string(llama_n_ctx(context)) + " tokens";
    }
    for (uint32_t length : request.sequence_lengths) {
      if (prefix + length > resources.position_limit)
        return "a prefixed sequence exceeds the model's " + std::to_string(resources.position_limit) + " positions";
    }
  }
  for (uint32_t length : request.sequence_lengths) {
    if (request.prefix.size() + length > llama_n_ctx_seq(context)) {
      return "a sequence of " + std::to_string(request.prefix.size() + length) + " tokens exceeds this context's " +
             std::to_string(llama_n_ctx_seq(context)) + " tokens per sequence";
    }
  }
  if ((request.last_token_only || !request.prefix.empty()) && !request.layers.empty()) {
    return "layers cannot be captured when only last tokens are output or a prefix is shared";
  }
  const int32_t layer_count = llama_model_n_layer(model);
  for (size_t i = 0; i < request.layers.size(); ++i) {
    const int32_t layer = request.layers[i];
    if (layer < 0 || layer > layer_count)
      return "layer " + std::to_string(layer) + " is outside [0, " + std::to_string(layer_count) + "]";
    if (std::find(request.layers.begin(), request.layers.begin() + i, layer) != request.layers.begin() + i) {
      return "layer " + std::to_string(layer) + " is requested twice";
    }
  }
  const bool pooled = llama_pooling_type(context) != LLAMA_POOLING_TYPE_NONE;
  if (pooled && (request.token_vectors || request.last_token_only || !request.prefix.empty())) {
    return "token vectors, last-token output and shared prefixes need a context created with pooling none";
  }
  return "";
}

EmbedWorker::EmbedWorker(Napi::Env env, EmbeddingContext* owner, std::shared_ptr<ContextResources> resources,
                         EmbedRequest request)
    : PromiseWorker(env),
      owner_(owner),
      owner_reference_(Napi::Persistent(owner->Value())),
      resources_(std::move(resources)),
      request_(std::move(request)) {}

void EmbedWorker::Execute() {
  LlamaLog::ClearThreadErrors();
  std::string problem = Decode();
  resources_->capture.End();
  resources_->input_ranges.End();
  if (!problem.empty()) SetError(problem);
}

std::string EmbedWorker::Decode() {
  llama_context* context = resources_->context;
  const llama_model* model = resources_->model.get();
  const int32_t token_count = static_cast<int32_t>(request_.tokens.size());

  if (llama_memory_t memory = llama_get_memory(context)) llama_memory_clear(memory, true);
  std::string problem = DecodePrefix();
  if (!problem.empty()) return problem;

  const llama_pos first_position = static_cast<llama_pos>(request_.prefix.size());
  BatchGuard guard(token_count);
  llama_batch& batch = guard.batch;
  std::vector<int32_t> last_indices;
  int32_t index = 0;
  for (size_t s = 0; s < request_.sequence_lengths.size(); ++s) {
    const uint32_t length = request_.sequence_lengths[s];
    for (uint32_t position = 0; position < length; ++position, ++index) {
      batch.token[index] = request_.tokens[index];
      batch.pos[index] = first_position + static_cast<llama_pos>(position);
      batch.n_seq_id[index] = 1;
      batch.seq_id[index][0] = static_cast<llama_seq_id>(s);
      batch.logits[index] = !request_.last_token_only || position + 1 == length;
    }
    last_indices.push_back(index - 1);
  }
  batch.n_tokens = token_count;

  resources_->capture.Begin(request_.layers, static_cast<size_t>(token_count),
                            static_cast<size_t>(llama_model_n_embd(model)));
  if (request_.input_ranges) resources_->input_ranges.Begin();
  const int32_t status = llama_decode(context, batch);
  if (status != 0) {
    std::string said = LlamaLog::TakeThreadErrors();
    return "llama_decode failed with status " + std::to_string(status) + (said.empty() ? "" : ": " + said);
  }
  std::string missing = resources_->capture.MissingLayers(resources_->architecture);
  if (!missing.empty()) return missing;
  layer_states_ = resources_->capture.Take();
  if (request_.input_ranges) input_ranges_ = resources_->input_ranges.Take();

  const size_t width = static_cast<size_t>(llama_model_n_embd_out(model));
  if (llama_pooling_type(context) != LLAMA_POOLING_TYPE_NONE) {
    pooled_.resize(request_.sequence_lengths.size() * width);
    for (size_t s = 0; s < request_.sequence_lengths.size(); ++s) {
      const float* vector = llama_get_embeddings_seq(context, static_cast<llama_seq_id>(s));
      if (vector == nullptr) return "llama.cpp returned no pooled vector for sequence " + std::to_string(s);
      std::copy(vector, vector + width, pooled_.begin() + static_cast<std::ptrdiff_t>(s * width));
    }
  }
  if (request_.token_vectors) {
    std::vector<int32_t> outputs(static_cast<size_t>(token_count));
    std::iota(outputs.begin(), outputs.end(), 0);
    if (request_.last_token_only) outputs = last_indices;
    token_vectors_.resize(outputs.size() * width);
    for (size_t row = 0; row < outputs.size(); ++row) {
      const float* vector = llama_get_embeddings_ith(context, outputs[row]);
      if (vector == nullptr) return "llama.cpp returned no vector for token " + std::to_string(outputs[row]);
      std::copy(vector, vector + width, token_vectors_.begin() + static_cast<std::ptrdiff_t>(row * width));
    }
  }
  return "";
}

// Evaluates the shared prefix once as sequence 0, then lets every other sequence of the batch
// see the same KV cells (in a unified cache, llama_memory_seq_cp adds sequence ids to the cells
// rather than copying them).
std::string EmbedWorker::DecodePrefix() {
  if (request_.prefix.empty()) return "";
  llama_context* context = resources_->context;
  const int32_t prefix_count = static_cast<int32_t>(request_.prefix.size());
  BatchGuard guard(prefix_count);
  for (int32_t position = 0; position < prefix_count; ++position) {
    guard.batch.token[position] = request_.prefix[static_cast<size_t>(position)];
    guard.batch.pos[position] = position;
    guard.batch.n_seq_id[position] = 1;
    guard.batch.seq_id[position][0] = 0;
    guard.batch.logits[position] = 0;
  }
  guard.batch.n_tokens = prefix_count;
  const int32_t status = llama_decode(context, guard.batch);
  if (status != 0) {
    std::string said = LlamaLog::TakeThreadErrors();
    return "llama_decode of the shared prefix failed with status " + std::to_string(status) +
           (said.empty() ? "" : ": " + said);
  }
  llama_memory_t memory = llama_get_memory(context);
  for (size_t s = 1; s < request_.sequence_lengths.size(); ++s)
    llama_memory_seq_cp(memory, 0, static_cast<llama_seq_id>(s), -1, -1);
  return "";
}

Napi::Value EmbedWorker::Result(Napi::Env env) {
  Napi::Object result = Napi::Object::New(env);
  const bool pooled = !pooled_.empty();
  result.Set("pooled", ToFloat32Array(env, std::move(pooled_), pooled));
  result.Set("tokens", ToFloat32Array(env, std::move(token_vectors_), request_.token_vectors));
  result.Set("layers", ToFloat32Array(env, std::move(layer_states_), !request_.layers.empty()));
  if (request_.input_ranges) {
    Napi::Object ranges = Napi::Object::New(env);
    for (auto& [weight, values] : input_ranges_) ranges.Set(weight, ToFloat32Array(env, std::move(values), true));
    result.Set("inputRanges", ranges);
  } else {
    result.Set("inputRanges", env.Null());
  }
  return result;
}

void EmbedWorker::OnOK() {
  owner_->FinishCall();
  PromiseWorker::OnOK();
}

void EmbedWorker::OnError(const Napi::Error& error) {
  owner_->FinishCall();
  PromiseWorker::OnError(error);
}
