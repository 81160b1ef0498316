// Host reference of the top-logits readout (see top_logits.h).
#include "sampling/top_logits.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/check.h"

namespace rf::sampling {

float adjusted_logit(float logit, const LogitAdjust& adjust) {
    constexpr float kNegInf = -std::numeric_limits<float>::infinity();
    if (std::isnan(logit)) logit = kNegInf;
    logit += adjust.bias;
    if (std::isnan(logit)) return kNegInf;  // +inf + -inf
    if (logit == kNegInf) return logit;     // a banned token stays banned
    logit = logit <= 0.0f ? logit * adjust.scale : logit / adjust.scale;
    return logit - adjust.subtract;
}

void apply_adjustments(std::span<float> rows, int64_t n_vocab, std::span<const LogitAdjust> adjust) {
    for (const LogitAdjust& a : adjust) {
        const auto i = static_cast<size_t>(static_cast<int64_t>(a.row) * n_vocab + a.id);
        RF_CHECK(a.id >= 0 && a.id < n_vocab && i < rows.size());
        rows[i] = adjusted_logit(rows[i], a);
    }
}

void select_top_logits(std::span<const float> row, std::span<TokenLogit> out) {
    RF_CHECK(!out.empty() && out.size() <= row.size());
    std::vector<TokenLogit> all(row.size());
    for (size_t i = 0; i < row.size(); ++i) {
        all[i] = {static_cast<int32_t>(i), std::isnan(row[i]) ? -std::numeric_limits<float>::infinity() : row[i]};
    }
    const auto nth = all.begin() + static_cast<std::ptrdiff_t>(out.size());
    const auto order = [](const TokenLogit& a, const TokenLogit& b) { return ranks_before(a, b); };
    std::nth_element(all.begin(), nth - 1, all.end(), order);
    std::sort(all.begin(), nth, order);
    std::copy(all.begin(), nth, out.begin());
}

}  // namespace rf::sampling
