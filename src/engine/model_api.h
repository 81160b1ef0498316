// The contract between the engine and a loaded model: what a Context needs to run forward steps.
// Implemented by rf::model (architectures); the engine never sees architecture details.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
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

// A model runs on one or more backends (hybrid offload: a stage of layers on each); the engine
// drives every step through the model, which forwards to its backends.
class Model {
public:
    virtual ~Model() = default;
    virtual const ModelInfo& info() const = 0;
    // Where it runs, for logs: "CPU", "CUDA (NVIDIA H200) 20 layers + CPU 12 layers".
    virtual std::string placement() const = 0;

    // KV pools for every layer (layout.n_layer = all of them), each on its layer's backend.
    virtual Status alloc_kv(const KvLayout& layout) = 0;
    // Copies K and V of block `src` to block `dst` in every layer (copy-on-write).
    virtual void copy_kv_block(int32_t src, int32_t dst) = 0;
    // Scratch for steps of up to max_tokens tokens and max_outputs logits rows.
    virtual std::unique_ptr<Workspace> create_workspace(int32_t max_tokens,
                                                        int32_t max_outputs) = 0;
    // Makes `batch` the current step on every backend (before forward).
    virtual void set_batch(const BatchInfo& batch) = 0;
    // One forward step over `batch` (KV slots reserved). Returns logits
    // [n_vocab, batch.output_rows.size()] in workspace memory.
    virtual Tensor forward(Workspace& ws, const BatchInfo& batch) = 0;
    // Copies logits returned by forward() to host memory (waits for the step's work).
    virtual void read_logits(const Tensor& logits, std::span<float> host) = 0;
    // The top-logits readout of them instead (Backend::read_top_logits).
    virtual void read_top_logits(Tensor& logits, int32_t k, std::span<const sampling::LogitAdjust> adjust,
                                 std::span<sampling::TokenLogit> host) = 0;
    // Called after every step's reads (see Backend::finish_step).
    virtual void finish_step() = 0;
};

}  // namespace rf::engine
