// Everything a command needs to run a GGUF file: backend, model, tokenizer and chat template,
// opened in one call.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "engine/backend.h"
#include "engine/model_api.h"
#include "tokenizer/tokenizer.h"

namespace rf::model {

struct OpenOptions {
    int n_threads = 0;          // CPU threads; <= 0: one per hardware thread
    std::string device = "auto";  // auto | gpu | gpu:N | cpu (see backend/select/device_select.h)
    std::string gpu_layers = "auto";  // N | auto | all: layers on the GPU, the rest on the CPU
    int64_t kv_tokens = 0;  // KV cache tokens the caller will ask for (0: min(training, 4096))
};

struct ModelBundle {
    std::string path;
    std::unique_ptr<engine::Backend> backend;      // the device the model (or its first layers) runs on
    std::unique_ptr<engine::Backend> cpu_backend;  // the CPU stage of a hybrid placement, or null
    std::unique_ptr<engine::Model> model;
    std::unique_ptr<tok::Tokenizer> tokenizer;  // null when the file has no vocabulary
    std::string chat_template;                  // tokenizer.chat_template, or ""
    double load_seconds = 0.0;
};

// Opens `path` (or the default model when empty) on the backend `options.device` selects; with
// "auto", a model that fails to load on the GPU (e.g. out of memory) is loaded on the CPU.
Result<ModelBundle> open_model(const std::string& path, const OpenOptions& options);

}  // namespace rf::model
