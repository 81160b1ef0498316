// Which GGUF tensor comes from which Hugging Face tensor rows: names, GGUF shapes, the LLaMA Q/K
// row permutation and the stacking of per-expert matrices into [n_embd, n_ff, n_expert] tensors.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "hf/hf_config.h"
#include "hf/safetensors.h"
#include "quant/types.h"

namespace rf::hf {

// `n_rows` consecutive rows of `src` starting at `first_row`. With permute_heads = h > 0 the
// rows form h heads whose two rotate-half halves are interleaved into (even, odd) pairs.
struct RowSegment {
    const StTensor* src = nullptr;
    uint64_t first_row = 0;
    uint64_t n_rows = 0;
    uint32_t permute_heads = 0;
};

struct PlannedTensor {
    std::string name;           // GGUF name, "blk.3.attn_q.weight"
    std::vector<uint64_t> ne;   // GGUF shape, ne[0] fastest
    uint64_t row_len = 0;       // elements per source row (ne[0], or 1 for permuted vectors)
    std::vector<RowSegment> rows;  // concatenated in order
    std::vector<float> generated;  // computed data (rope_freqs) instead of rows
    bool keep_f32 = false;         // routers and generated tensors stay F32 (llama.cpp's rule)
};

// Maps every tensor of `model` for `config`. Errors name the missing, misshapen, non-float or
// unexpected tensor.
Result<std::vector<PlannedTensor>> plan_tensors(const SafetensorsModel& model, const HfConfig& config);

// The stored type of `t` when `wanted` is asked for: vectors and keep_f32 tensors F32, rows whose
// length is not a multiple of the block size F16, everything else `wanted`.
quant::GgmlType choose_type(const PlannedTensor& t, quant::GgmlType wanted);

// Fills `out` (exactly the tensor's size in `type`) from the source rows.
void produce_tensor(const PlannedTensor& t, quant::GgmlType type, std::span<uint8_t> out);

}  // namespace rf::hf
