#include <napi.h>

#include "addon_data.h"
#include "embedding_context.h"
#include "llama.h"
#include "llama_log.h"
#include "model.h"
#include "quantize_worker.h"

namespace {

Napi::Value SystemInfo(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), llama_print_system_info());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  LlamaLog::Install();
  llama_backend_init();
  env.SetInstanceData(new AddonData());
  Model::Init(env, exports);
  EmbeddingContext::Init(env, exports);
  exports.Set("quantizeModel", Napi::Function::New<&QuantizeWorker::Start>(env, "quantizeModel"));
  exports.Set("systemInfo", Napi::Function::New<SystemInfo>(env, "systemInfo"));
  return exports;
}

}  // namespace

NODE_API_MODULE(ctxembed, Init)
