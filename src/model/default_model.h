// Locating the small default model shipped in the repository (models/default.gguf), so
// `generate` and `chat` work with no -m.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace rf::model {

// Places searched, in order: $ROCMFORGE_DEFAULT_MODEL, models/default.gguf beside or above the
// executable (build trees), the install prefix's share/rocmforge, the source tree.
std::vector<std::string> default_model_candidates();
// The first candidate that exists, or an error listing where it looked.
Result<std::string> find_default_model();

}  // namespace rf::model
