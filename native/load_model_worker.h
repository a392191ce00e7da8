#pragma once

#include <string>

#include "model.h"
#include "promise_worker.h"

class LoadModelWorker : public PromiseWorker {
 public:
  LoadModelWorker(Napi::Env env, std::string path, llama_model_params params);

 protected:
  void Execute() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::string path_;
  llama_model_params params_;
  ModelHandle handle_;
};
