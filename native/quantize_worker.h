#pragma once

#include <string>

#include "llama.h"
#include "promise_worker.h"

// llama.cpp's own quantizer (what its llama-quantize tool runs) over a GGUF file, on the libuv pool.
class QuantizeWorker : public PromiseWorker {
 public:
  QuantizeWorker(Napi::Env env, std::string input_path, std::string output_path, llama_model_quantize_params params);

  // quantizeModel(inputPath: string, outputPath: string, options: {fileType: number, threads: number, allowRequantize:
  // boolean}): Promise<void>
  static Napi::Value Start(const Napi::CallbackInfo& info);

 protected:
  void Execute() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::string input_path_;
  std::string output_path_;
  llama_model_quantize_params params_;
};
