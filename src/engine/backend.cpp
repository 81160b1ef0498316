// The host form of the Backend ops that have one.
#include "engine/backend.h"

#include <vector>

#include "core/check.h"

namespace rf::engine {

void Backend::read_top_logits(Tensor& logits, int32_t k, std::span<const sampling::LogitAdjust> adjust,
                              std::span<sampling::TokenLogit> host) {
    const int64_t n_vocab = logits.ne[0];
    const size_t n_rows = host.size() / static_cast<size_t>(k);
    RF_CHECK(k >= 1 && k <= n_vocab && n_rows * static_cast<size_t>(k) == host.size());
    std::vector<float> rows(n_rows * static_cast<size_t>(n_vocab));  // [n_rows][n_vocab]
    read(logits, rows);
    sampling::apply_adjustments(rows, n_vocab, adjust);
    const auto width = static_cast<size_t>(n_vocab);
    for (size_t r = 0; r < n_rows; ++r) {
        sampling::select_top_logits(std::span<const float>(rows).subspan(r * width, width),
                                    host.subspan(r * static_cast<size_t>(k), static_cast<size_t>(k)));
    }
}

}  // namespace rf::engine
