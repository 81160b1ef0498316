// The contract between the engine and a loaded model: what a Context needs to run forward steps.
// Implemented by rf::model (architectures); the engine never sees architecture details.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/backend.h"
#include "engine/batch.h"
#include "engine/tensor.h"

namespace rf::engine {

// Facts about a loaded model that callers and the KV cache need.
struct ModelInfo {
    std::string arch;       // GGUF general.architecture
    std::string name;       // general.name, or the file stem
    std::string file_type;  // most common weight type, e.g. "Q4_0"
    std::string size_label; // "1B", "7B" ... from the parameter count
    int32_t n_vocab = 0;
    int32_t n_ctx_train = 0;
    int32_t n_embd = 0;
    int32_t n_layer = 0;
    int32_t n_head = 0;
    int32_t n_head_kv = 0;
    int32_t head_dim_k = 0;
    int32_t head_dim_v = 0;
    uint64_t n_params = 0;
    uint64_t weight_bytes = 0;   // bytes of all weights
    uint64_t decode_bytes = 0;   // weight bytes read per decoded token (embeddings: one row)
};

// Scratch activations of one Context, sized for its largest step.
class Workspace {
public:
    virtual ~Workspace() = default;
};

class Model {
public:
    virtual ~Model() = default;
    virtual const ModelInfo& info() const = 0;
    virtual Backend& backend() = 0;
    // Scratch for steps of up to max_tokens tokens and max_outputs logits rows.
    virtual std::unique_ptr<Workspace> create_workspace(int32_t max_tokens,
                                                        int32_t max_outputs) = 0;
    // One forward step over `batch` (already set on the backend, KV slots reserved).
    // Returns logits [n_vocab, batch.output_rows.size()] in workspace memory.
    virtual Tensor forward(Workspace& ws, const BatchInfo& batch) = 0;
};

}  // namespace rf::engine
