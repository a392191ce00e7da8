#include "load_model_worker.h"

#include "llama_log.h"

LoadModelWorker::LoadModelWorker(Napi::Env env, std::string path, llama_model_params params)
    : PromiseWorker(env), path_(std::move(path)), params_(params) {}

void LoadModelWorker::Execute() {
  LlamaLog::ClearThreadErrors();
  llama_model* model = llama_model_load_from_file(path_.c_str(), params_);
  if (model == nullptr) {
    std::string said = LlamaLog::TakeThreadErrors();
    SetError("llama.cpp could not load " + path_ + (said.empty() ? "" : ": " + said));
    return;
  }
  handle_ = ModelHandle(model, llama_model_free);
}

Napi::Value LoadModelWorker::Result(Napi::Env env) { return Model::NewInstance(env, std::move(handle_)); }
