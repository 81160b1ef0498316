// Hybrid offload planning (see offload.h).
#include "model/offload.h"

#include <algorithm>
#include <charconv>

#include "backend/gpu/gpu_matrix.h"
#include "gguf/tensor_names.h"

namespace rf::model {
namespace {

// What one tensor takes on the GPU: matrices of a type the kernels read are repacked
// (gpu_matrix.h), other types are widened to fp16 at upload; vectors become f32.
uint64_t gpu_bytes(const gguf::TensorInfo& t) {
    if (t.ne[1] == 1 && t.ne[2] == 1) return t.n_elements() * sizeof(float);
    const uint64_t fp16_bytes = t.n_elements() * 2;
    if (!gpu::gpu_supports_type(t.type) || t.ne[0] == 0) return fp16_bytes;
    const uint64_t row = gpu::packed_row_bytes(t.type, t.ne[0]);
    return row == 0 ? fp16_bytes : row * static_cast<uint64_t>(t.n_elements() / t.ne[0]);
}

}  // namespace

Result<GpuLayersRequest> parse_gpu_layers(std::string_view text) {
    GpuLayersRequest r;
    if (text == "auto") return r;
    if (text == "all") {
        r.kind = GpuLayersRequest::Kind::kAll;
        return r;
    }
    int32_t n = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < 0) {
        return error("--gpu-layers: expected a layer count, auto or all, got '{}'", text);
    }
    r.kind = GpuLayersRequest::Kind::kCount;
    r.count = n;
    return r;
}

OffloadEstimate estimate_offload(const gguf::GgufFile& file, int32_t n_layer, int64_t kv_tokens,
                                 int64_t kv_width) {
    OffloadEstimate e;
    e.layer_bytes.assign(static_cast<size_t>(std::max(n_layer, 0)), 0);
    // fp16 K and V of one layer: kv_width = n_head_kv * (head_dim_k + head_dim_v).
    const uint64_t kv_per_layer = static_cast<uint64_t>(std::max<int64_t>(kv_tokens, 0)) *
                                  static_cast<uint64_t>(std::max<int64_t>(kv_width, 0)) * 2;
    uint64_t largest_matrix = 0;
    for (const gguf::TensorInfo& t : file.tensors()) {
        const int32_t il = gguf::tensor_layer(t.name);
        if (il >= 0 && il < n_layer) {
            e.layer_bytes[static_cast<size_t>(il)] += gpu_bytes(t);
            largest_matrix = std::max<uint64_t>(largest_matrix, t.n_elements());
        } else if (t.name.starts_with("token_embd.")) {
            e.fixed_bytes += gpu_bytes(t);
        } else {
            e.head_bytes += gpu_bytes(t);
        }
    }
    for (uint64_t& b : e.layer_bytes) b += kv_per_layer;
    // Scratch: activations, the fp16 copy of one weight for batched GEMMs, the BLAS workspace
    // and the runtime's own allocations.
    e.fixed_bytes += (uint64_t{768} << 20) + largest_matrix * 2;
    return e;
}

int32_t layers_that_fit(const OffloadEstimate& estimate, uint64_t free_bytes) {
    if (free_bytes <= estimate.fixed_bytes) return 0;
    uint64_t left = free_bytes - estimate.fixed_bytes;
    int32_t n = 0;
    for (uint64_t b : estimate.layer_bytes) {
        if (b > left) break;
        left -= b;
        ++n;
    }
    // With every layer on the GPU the output norm and LM head go there too.
    if (n == static_cast<int32_t>(estimate.layer_bytes.size()) && estimate.head_bytes > left) --n;
    return std::max(n, 0);
}

}  // namespace rf::model
