// The GPU top-logits readout against the host reference (sampling/top_logits.h): the same logit
// changes to the bit, the same k candidates, over odd vocabulary sizes, k from 1 to the maximum,
// and rows full of ties, NaN, infinities and signed zeros.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "backend/gpu/ops.h"
#include "gpu_test_util.h"
#include "sampling/top_logits.h"

namespace rf::gpu {
namespace {

using sampling::LogitAdjust;
using sampling::TokenLogit;
using test::DeviceBuffer;

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> awkward_rows(int64_t n_rows, int64_t n_vocab, std::mt19937& rng) {
    std::normal_distribution<float> normal(0.0f, 4.0f);
    std::uniform_int_distribution<int> pick(0, 15);
    std::vector<float> rows(static_cast<size_t>(n_rows * n_vocab));
    for (float& x : rows) {
        switch (pick(rng)) {
            case 0: x = std::round(normal(rng)); break;  // exact ties, also at the cut
            case 1: x = std::numeric_limits<float>::quiet_NaN(); break;
            case 2: x = -kInf; break;
            case 3: x = (rng() & 1) != 0 ? -0.0f : 0.0f; break;
            default: x = normal(rng);
        }
    }
    return rows;
}

// Bias, penalty and bans on random tokens of each row (one entry per (row, id)).
std::vector<LogitAdjust> random_adjustments(int64_t n_rows, int64_t n_vocab, std::mt19937& rng) {
    std::vector<LogitAdjust> out;
    std::uniform_real_distribution<float> bias(-6.0f, 6.0f);
    for (int32_t r = 0; r < n_rows; ++r) {
        std::vector<int32_t> ids(static_cast<size_t>(std::min<int64_t>(n_vocab, 50)));
        for (auto& id : ids) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(n_vocab));
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        for (int32_t id : ids) {
            const uint32_t kind = rng() % 4;
            LogitAdjust a{r, id, kind == 0 ? -kInf : bias(rng), 1.0f, 0.0f};
            if (kind >= 2) {
                a.scale = 1.1f + static_cast<float>(rng() % 100) / 37.0f;
                a.subtract = bias(rng) / 3.0f;
            }
            out.push_back(a);
        }
    }
    return out;
}

bool same_value(float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }

void check_readout(int64_t n_rows, int64_t n_vocab, int32_t k, std::vector<float> rows,
                   const std::vector<LogitAdjust>& adjust) {
    DeviceBuffer<float> d_rows(rows);
    DeviceBuffer<TokenLogit> d_top(static_cast<size_t>(n_rows * k));
    std::unique_ptr<DeviceBuffer<LogitAdjust>> d_adjust;
    if (!adjust.empty()) d_adjust = std::make_unique<DeviceBuffer<LogitAdjust>>(adjust);
    top_logits(d_rows.get(), n_vocab, n_rows, k, d_adjust ? d_adjust->get() : nullptr,
               static_cast<int32_t>(adjust.size()), d_top.get(), nullptr);
    RF_GPU_CHECK(gpuDeviceSynchronize());

    sampling::apply_adjustments(rows, n_vocab, adjust);
    const std::vector<float> device_rows = d_rows.to_host();
    for (size_t i = 0; i < rows.size(); ++i) {
        ASSERT_TRUE(same_value(device_rows[i], rows[i])) << "element " << i << ": " << device_rows[i] << " vs " << rows[i];
    }
    std::vector<TokenLogit> got = d_top.to_host();
    std::vector<TokenLogit> want(static_cast<size_t>(k));
    for (int64_t r = 0; r < n_rows; ++r) {
        const auto row = std::span<const float>(rows).subspan(static_cast<size_t>(r * n_vocab), static_cast<size_t>(n_vocab));
        sampling::select_top_logits(row, want);
        const auto first = got.begin() + r * k;
        std::sort(first, first + k, sampling::ranks_before);
        for (int32_t j = 0; j < k; ++j) {
            const TokenLogit& g = first[j];
            ASSERT_EQ(g.id, want[static_cast<size_t>(j)].id) << "vocab " << n_vocab << " k " << k << " row " << r << " rank " << j;
            ASSERT_EQ(g.logit, want[static_cast<size_t>(j)].logit);
        }
    }
}

TEST(GpuTopLogits, MatchesTheHostReadoutOnAwkwardRows) {
    RF_SKIP_WITHOUT_GPU();
    std::mt19937 rng(5);
    for (const int64_t n_vocab : {1, 7, 1000, 32000, 151937}) {
        for (const int32_t k : {1, 2, 40, 1000, 1024}) {
            if (k > n_vocab) continue;
            const int64_t n_rows = n_vocab > 100000 ? 2 : 3;
            auto rows = awkward_rows(n_rows, n_vocab, rng);
            check_readout(n_rows, n_vocab, k, rows, {});
            check_readout(n_rows, n_vocab, k, rows, random_adjustments(n_rows, n_vocab, rng));
        }
    }
}

TEST(GpuTopLogits, AllEqualRowsTakeTheLowestIds) {
    RF_SKIP_WITHOUT_GPU();
    for (const float value : {1.5f, -kInf, std::numeric_limits<float>::quiet_NaN()}) {
        const std::vector<float> rows(2 * 5000, value);
        for (const int32_t k : {1, 33, 1024}) check_readout(2, 5000, k, rows, {});
    }
}

}  // namespace
}  // namespace rf::gpu
