// The top-logits readout: selection against a full sort, and sampling from the readout against
// sampling from the whole row (same tokens, same logprobs) over random rows and settings.
#include "sampling/top_logits.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "sampling/sampler.h"

namespace rf::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// A row with the awkward values a model can produce: repeated values (ties at the cut), NaN,
// -inf, +-0 and a few large outliers.
std::vector<float> awkward_row(int32_t n_vocab, std::mt19937& rng) {
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::uniform_int_distribution<int> pick(0, 19);
    std::vector<float> row(static_cast<size_t>(n_vocab));
    for (float& x : row) {
        switch (pick(rng)) {
            case 0: x = std::round(normal(rng)); break;  // many exact ties
            case 1: x = std::numeric_limits<float>::quiet_NaN(); break;
            case 2: x = -kInf; break;
            case 3: x = -0.0f; break;
            case 4: x = 0.0f; break;
            default: x = normal(rng);
        }
    }
    row[static_cast<size_t>(rng() % static_cast<uint32_t>(n_vocab))] = 30.0f;
    return row;
}

TEST(TopLogits, SelectionMatchesAFullSortWithTiesToLowerIds) {
    std::mt19937 rng(7);
    for (const int32_t n_vocab : {1, 2, 33, 1000, 4099}) {
        const auto row = awkward_row(n_vocab, rng);
        std::vector<TokenLogit> all;
        for (int32_t i = 0; i < n_vocab; ++i) {
            const float x = row[static_cast<size_t>(i)];
            all.push_back({i, std::isnan(x) ? -kInf : x});
        }
        std::sort(all.begin(), all.end(), ranks_before);
        for (const int32_t k : {1, 2, 7, 40, 1024}) {
            if (k > n_vocab) continue;
            std::vector<TokenLogit> top(static_cast<size_t>(k));
            select_top_logits(row, top);
            for (int32_t j = 0; j < k; ++j) {
                EXPECT_EQ(top[static_cast<size_t>(j)].id, all[static_cast<size_t>(j)].id) << n_vocab << " " << k << " " << j;
            }
        }
    }
}

TEST(TopLogits, AdjustedLogitIsBiasThenPenalty) {
    EXPECT_EQ(adjusted_logit(2.0f, {0, 0, 1.0f, 2.0f, 0.5f}), 1.0f);   // (2 + 1) / 2 - 0.5
    EXPECT_EQ(adjusted_logit(-2.0f, {0, 0, 0.0f, 2.0f, 0.0f}), -4.0f); // non-positive: times the scale
    EXPECT_EQ(adjusted_logit(1.0f, {0, 0, -kInf, 2.0f, 1.0f}), -kInf); // banned stays banned
    EXPECT_EQ(adjusted_logit(kInf, {0, 0, -kInf, 1.0f, 0.0f}), -kInf); // inf - inf
    EXPECT_EQ(adjusted_logit(std::numeric_limits<float>::quiet_NaN(), {0, 0, 5.0f, 1.0f, 0.0f}), -kInf);
}

// Settings whose draws depend only on the top few logits, and some that need the whole row.
std::vector<SamplerParams> settings() {
    std::vector<SamplerParams> out;
    SamplerParams greedy;
    greedy.temperature = 0.0f;
    out.push_back(greedy);
    SamplerParams defaults;  // temperature 0.8, top-k 40, top-p 0.95, min-p 0.05
    out.push_back(defaults);
    SamplerParams penalised = defaults;
    penalised.repeat_penalty = 1.3f;
    penalised.frequency_penalty = 0.4f;
    penalised.presence_penalty = -0.7f;  // negative: raises tokens from outside the top
    penalised.penalty_last_n = 16;
    penalised.logit_bias = {{3, 25.0f}, {5, -kInf}, {11, 1.5f}};
    out.push_back(penalised);
    SamplerParams typical = defaults;
    typical.top_k = 3;
    typical.min_keep = 9;
    typical.typical_p = 0.7f;
    typical.temperature = 1.7f;
    out.push_back(typical);
    SamplerParams greedy_biased = greedy;
    greedy_biased.logit_bias = {{0, 40.0f}};
    greedy_biased.repeat_penalty = 2.0f;
    out.push_back(greedy_biased);
    SamplerParams no_top_k = defaults;
    no_top_k.top_k = 0;
    out.push_back(no_top_k);
    return out;
}

TEST(TopLogits, SamplingFromTheReadoutDrawsWhatTheWholeRowDraws) {
    std::mt19937 rng(11);
    int readout_runs = 0;
    for (const int32_t n_vocab : {50, 997, 5000}) {
        for (SamplerParams params : settings()) {
            params.seed = 99;
            Sampler whole(params), from_top(params);
            std::vector<int32_t> history;
            for (int step = 0; step < 40; ++step) {
                const auto row = awkward_row(n_vocab, rng);
                // Steps with no logprobs asked, with the chosen token's only, and with two more.
                const bool with_logprobs = step % 3 != 0;
                const int32_t n_logprobs = step % 3 == 2 ? 2 : 0;
                SampleLogprobs want_lp, got_lp;
                SampleLogprobs* want_out = with_logprobs ? &want_lp : nullptr;
                SampleLogprobs* got_out = with_logprobs ? &got_lp : nullptr;
                const int32_t want = whole.sample(row, history, n_logprobs, want_out);

                const int32_t k = from_top.top_logits_needed(n_vocab, with_logprobs);
                if (params.temperature <= 0.0f) {
                    EXPECT_EQ(k, with_logprobs ? 0 : 1);
                } else if (params.top_k <= 0) {
                    EXPECT_EQ(k, 0);
                }
                if (k == 0) {
                    EXPECT_EQ(from_top.sample(row, history, n_logprobs, got_out), want);
                } else {
                    // What a device does: adjust the row, select k (or more), hand them back in any order.
                    std::vector<LogitAdjust> adjust;
                    from_top.logit_adjustments(history, n_vocab, 0, adjust);
                    std::vector<float> adjusted = row;
                    apply_adjustments(adjusted, n_vocab, adjust);
                    const int32_t extra = step % 2 == 0 ? 0 : std::min(5, n_vocab - k);
                    std::vector<TokenLogit> top(static_cast<size_t>(k + extra));
                    select_top_logits(adjusted, top);
                    std::shuffle(top.begin(), top.end(), rng);
                    EXPECT_EQ(from_top.sample_top(top, n_logprobs, got_out), want) << "step " << step;
                    ++readout_runs;
                }
                EXPECT_EQ(got_lp.chosen_logprob, want_lp.chosen_logprob);
                ASSERT_EQ(got_lp.top.size(), want_lp.top.size());
                for (size_t i = 0; i < got_lp.top.size(); ++i) {
                    EXPECT_EQ(got_lp.top[i].id, want_lp.top[i].id);
                    EXPECT_EQ(got_lp.top[i].logprob, want_lp.top[i].logprob);
                }
                history.push_back(want);
                if (step % 4 == 0) history.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(n_vocab)));
            }
        }
    }
    EXPECT_GT(readout_runs, 300);
}

TEST(TopLogits, NeedsWholeRowsPastTheReadoutLimit) {
    SamplerParams p;
    p.top_k = kMaxTopLogits;
    EXPECT_EQ(Sampler(p).top_logits_needed(50000, false), kMaxTopLogits);
    p.top_k = kMaxTopLogits + 1;
    EXPECT_EQ(Sampler(p).top_logits_needed(50000, false), 0);
    p.top_k = 40;
    p.min_keep = kMaxTopLogits + 1;
    EXPECT_EQ(Sampler(p).top_logits_needed(50000, false), 0);
}

TEST(TopLogits, AdjustmentsMergeBiasIntoThePenaltyEntry) {
    SamplerParams p;
    p.repeat_penalty = 1.5f;
    p.presence_penalty = 0.25f;
    p.logit_bias = {{4, 2.0f}, {9, -1.0f}, {100, 3.0f}, {-1, 1.0f}};
    Sampler sampler(p);
    std::vector<LogitAdjust> adjust;
    const std::vector<int32_t> history = {4, 7, 4};
    sampler.logit_adjustments(history, 50, 3, adjust);  // id 100 and -1 are outside the vocabulary
    ASSERT_EQ(adjust.size(), 3u);
    for (const LogitAdjust& a : adjust) EXPECT_EQ(a.row, 3);
    std::sort(adjust.begin(), adjust.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    EXPECT_EQ(adjust[0].id, 4);
    EXPECT_EQ(adjust[0].bias, 2.0f);
    EXPECT_EQ(adjust[0].scale, 1.5f);
    EXPECT_EQ(adjust[0].subtract, 0.25f);
    EXPECT_EQ(adjust[1].id, 7);
    EXPECT_EQ(adjust[1].bias, 0.0f);
    EXPECT_EQ(adjust[2].id, 9);
    EXPECT_EQ(adjust[2].scale, 1.0f);
    EXPECT_EQ(adjust[2].subtract, 0.0f);
}

}  // namespace
}  // namespace rf::sampling
