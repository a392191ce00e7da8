#pragma once

#include <napi.h>

// Per-environment constructors, so the addon also works when loaded in worker threads.
struct AddonData {
  Napi::FunctionReference model_constructor;
  Napi::FunctionReference embedding_context_constructor;

  static AddonData& Of(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }
};
