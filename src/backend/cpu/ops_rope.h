// Rotary position embedding on the CPU: a per-token cos/sin table (linear, YaRN and
// frequency-factor scaling folded in), applied in place to [n_tokens][n_head][head_dim] rows.
#pragma once

#include <cstdint>

#include "engine/backend.h"

namespace rf::cpu {

// cos_out / sin_out [n_tokens][n_rot / 2]: the rotation of dim pair i at positions[t], already
// multiplied by the YaRN magnitude scale. freq_factors: [n_rot / 2] or null.
void rope_table(const engine::RopeParams& p, const float* freq_factors, const int32_t* positions,
                int64_t n_tokens, float* cos_out, float* sin_out);

// Rotates x [n_tokens][n_head][head_dim] in place: normal RoPE rotates (2i, 2i + 1), NeoX rotates
// (i, i + n_rot / 2); dims >= n_rot pass through.
void rope_apply(engine::RopeType type, int32_t n_rot, const float* cos_table,
                const float* sin_table, float* x, int64_t head_dim, int64_t n_head,
                int64_t n_tokens);

}  // namespace rf::cpu
