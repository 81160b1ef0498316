// The compact readout of a logits row: a device hands back the row's largest logits, after the
// sampler's per-token changes (logit bias, repetition penalties), instead of the whole row. At a
// 152k-token vocabulary a row is 608 KB; top-k's 40 candidates are 320 bytes. The host reference
// of both steps is here; a GPU backend runs them as kernels with the same results.
#pragma once

#include <cstdint>
#include <span>

namespace rf::sampling {

// Most candidates a readout asks for per row (one GPU block of 1024 threads selects them).
inline constexpr int32_t kMaxTopLogits = 1024;

struct TokenLogit {
    int32_t id;
    float logit;
};

// The sampler's one total order: larger logit first, ties to the lower id.
inline bool ranks_before(const TokenLogit& a, const TokenLogit& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// A change to token `id`'s logit in output row `row`, made before selection: `bias` is added (a
// NaN sum becomes -inf), then a finite result is penalised: divided by `scale` when positive,
// multiplied by it otherwise, and `subtract` taken off. (llama.cpp's logit bias, then its
// repeat / frequency / presence penalties.) One entry per (row, id).
struct LogitAdjust {
    int32_t row = 0;
    int32_t id = 0;
    float bias = 0.0f;
    float scale = 1.0f;
    float subtract = 0.0f;
};

// The changed logit (a NaN input counts as -inf).
float adjusted_logit(float logit, const LogitAdjust& adjust);

// Applies `adjust` to rows [n_rows][n_vocab] in place.
void apply_adjustments(std::span<float> rows, int64_t n_vocab, std::span<const LogitAdjust> adjust);

// out[0, k): the k = out.size() largest logits of `row` in ranks_before order (NaN counts as
// -inf, so ties at the k-th value go to the lower ids). 1 <= k <= row.size().
void select_top_logits(std::span<const float> row, std::span<TokenLogit> out);

}  // namespace rf::sampling
