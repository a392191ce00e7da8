#include "quantize_worker.h"

#include "llama_log.h"

QuantizeWorker::QuantizeWorker(Napi::Env env, std::string input_path, std::string output_path,
                               llama_model_quantize_params params)
    : PromiseWorker(env), input_path_(std::move(input_path)), output_path_(std::move(output_path)), params_(params) {}

Napi::Value QuantizeWorker::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsObject()) {
    throw Napi::TypeError::New(env, "quantizeModel(inputPath: string, outputPath: string, options: object) expected");
  }
  Napi::Object options = info[2].As<Napi::Object>();
  llama_model_quantize_params params = llama_model_quantize_default_params();
  params.ftype = static_cast<llama_ftype>(options.Get("fileType").As<Napi::Number>().Int32Value());
  params.nthread = options.Get("threads").As<Napi::Number>().Int32Value();
  params.allow_requantize = options.Get("allowRequantize").ToBoolean().Value();
  auto* worker =
      new QuantizeWorker(env, info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(), params);
  worker->Queue();
  return worker->Promise();
}

void QuantizeWorker::Execute() {
  LlamaLog::ClearThreadErrors();
  if (llama_model_quantize(input_path_.c_str(), output_path_.c_str(), &params_) != 0) {
    std::string said = LlamaLog::TakeThreadErrors();
    SetError("llama.cpp could not quantize " + input_path_ + (said.empty() ? "" : ": " + said));
  }
}

Napi::Value QuantizeWorker::Result(Napi::Env env) { return env.Undefined(); }
