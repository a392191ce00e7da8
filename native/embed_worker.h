#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "context_resources.h"
#include "promise_worker.h"

class EmbeddingContext;

// One packed batch: sequence s is tokens[offset_s, offset_s + sequence_lengths[s]).
struct EmbedRequest {
  std::vector<llama_token> tokens;
  std::vector<uint32_t> sequence_lengths;
  std::vector<int32_t> layers;
  // measure every weight product's per-channel input range (InputRangeCapture)
  bool input_ranges = false;
  bool token_vectors = false;
  // Output only each sequence's last token: a decoder then computes its vocabulary-sized
  // output row for one token per sequence instead of for every token.
  bool last_token_only = false;
  // Tokens every sequence starts with, evaluated once and shared through the KV cache
  // (causal models only); `tokens` then holds only what follows the prefix.
  std::vector<llama_token> prefix;
};

// Runs one llama_decode over a packed batch and copies out pooled vectors, token vectors and
// the requested layers' hidden states.
class EmbedWorker : public PromiseWorker {
 public:
  // Everything llama.cpp would assert on (and so kill the process for) is checked here first.
  static std::string Validate(const ContextResources& resources, const EmbedRequest& request);

  EmbedWorker(Napi::Env env, EmbeddingContext* owner, std::shared_ptr<ContextResources> resources,
              EmbedRequest request);

 protected:
  void Execute() override;
  Napi::Value Result(Napi::Env env) override;
  void OnOK() override;
  void OnError(const Napi::Error& error) override;

 private:
  std::string Decode();
  std::string DecodePrefix();

  EmbeddingContext* owner_;
  Napi::ObjectReference owner_reference_;
  std::shared_ptr<ContextResources> resources_;
  EmbedRequest request_;
  std::vector<float> pooled_;
  std::vector<float> token_vectors_;
  std::vector<float> layer_states_;
  std::map<std::string, std::vector<float>> input_ranges_;
};
