// Loading a GGUF model onto a backend: architecture lookup, hyper-parameters, weight binding.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "engine/backend.h"
#include "engine/model_api.h"
#include "gguf/gguf_file.h"

namespace rf::model {

// Opens `path` and binds its weights on `backend` (which must outlive the model). Unknown
// architectures, missing keys or tensors, shape mismatches and unusable types are errors that
// name the key or tensor.
Result<std::unique_ptr<engine::Model>> load_model(const std::string& path,
                                                  engine::Backend& backend);
// The same from an already opened file (tests build models in memory).
Result<std::unique_ptr<engine::Model>> load_model(gguf::GgufFile file, engine::Backend& backend);

}  // namespace rf::model
