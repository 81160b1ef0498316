// Hybrid offload planning (--gpu-layers N|auto|all): how many layers run on the GPU, the rest on
// the CPU. "auto" accounts the GPU memory each layer needs (weights as the GPU stores them, plus
// its KV cache) against the free memory, after the embeddings and a scratch reserve.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "gguf/gguf_file.h"

namespace rf::model {

struct GpuLayersRequest {
    enum class Kind { kAuto, kAll, kCount };
    Kind kind = Kind::kAuto;
    int32_t count = 0;  // kCount only
};

// "auto", "all" or a layer count >= 0.
Result<GpuLayersRequest> parse_gpu_layers(std::string_view text);

// GPU memory a model needs, in bytes, with the first layers on the GPU.
struct OffloadEstimate {
    uint64_t fixed_bytes = 0;           // token embeddings + scratch reserve
    uint64_t head_bytes = 0;            // output norm + LM head (on the GPU only with every layer)
    std::vector<uint64_t> layer_bytes;  // weights + KV cache of each layer
};

// kv_tokens: KV cache capacity in tokens (all sequences). n_head_kv and head dims from the model.
OffloadEstimate estimate_offload(const gguf::GgufFile& file, int32_t n_layer, int64_t kv_tokens,
                                 int64_t kv_width);

// The number of leading layers that fit in free_bytes (all of them only if the head fits too).
int32_t layers_that_fit(const OffloadEstimate& estimate, uint64_t free_bytes);

}  // namespace rf::model
