// Loading a GGUF model onto a backend: architecture lookup, hyper-parameters, weight binding.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "engine/backend.h"
#include "engine/model_api.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "model/placement.h"

namespace rf::model {

// Opens `path` and binds its weights on `backend` (which must outlive the model). Unknown
// architectures, missing keys or tensors, shape mismatches and unusable types are errors that
// name the key or tensor.
Result<std::unique_ptr<engine::Model>> load_model(const std::string& path,
                                                  engine::Backend& backend);
// The same from an already opened file (tests build models in memory).
Result<std::unique_ptr<engine::Model>> load_model(gguf::GgufFile file, engine::Backend& backend);
// The same over several backends: `make_placement` says which runs which layers, given the
// model's hyper-parameters (the backends must outlive the model).
using PlacementFn = std::function<Placement(const HParams& hp)>;
Result<std::unique_ptr<engine::Model>> load_model(gguf::GgufFile file, const PlacementFn& make_placement);

}  // namespace rf::model
