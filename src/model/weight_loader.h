// Binds GGUF tensors to backend tensors with strict checks: presence, exact shape and a type the
// op can use. Every failure names the tensor.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>

#include "core/status.h"
#include "engine/backend.h"
#include "gguf/gguf_file.h"
#include "model/placement.h"

namespace rf::model {

enum class WeightKind {
    kMatrix,     // matmul weight: float or any block-quantized type
    kEmbedding,  // token embedding table (row lookups; also the LM head when tied)
    kVector,     // norm weight or bias: F32 only
};

// Tensors go to the backend of their layer (Placement::backend_for_tensor) unless a call names
// one: a tensor several stages read (tied LM head, RoPE factors) is uploaded once per backend.
class WeightLoader {
public:
    WeightLoader(const gguf::GgufFile& file, const Placement& placement)
        : file_(file), placement_(placement) {}

    // The tensor `name` with exactly the shape `ne` (ne0 first).
    Result<engine::Tensor> require(const std::string& name, std::initializer_list<int64_t> ne,
                                   WeightKind kind = WeightKind::kMatrix, engine::Backend* on = nullptr);
    // As require(), but an absent tensor gives an empty Tensor.
    Result<engine::Tensor> optional(const std::string& name, std::initializer_list<int64_t> ne,
                                    WeightKind kind = WeightKind::kMatrix, engine::Backend* on = nullptr);

    const Placement& placement() const { return placement_; }
    bool has(const std::string& name) const { return file_.find_tensor(name) != nullptr; }
    uint64_t bytes_bound() const { return bytes_bound_; }
    uint64_t params_bound() const { return params_bound_; }

private:
    Result<engine::Tensor> bind(const gguf::TensorInfo& info, std::initializer_list<int64_t> ne,
                                WeightKind kind, engine::Backend* on);

    const gguf::GgufFile& file_;
    const Placement& placement_;
    std::set<std::string> counted_;  // tensors already in the byte and parameter totals
    uint64_t bytes_bound_ = 0;
    uint64_t params_bound_ = 0;
};

// "blk.3.attn_q.weight"
std::string layer_tensor(int32_t il, const char* suffix);

}  // namespace rf::model
