// Sampler: greedy, each truncation step, penalties, bias, determinism, logprobs and edge cases.
#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

namespace rf::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Parameters with every truncation step off, temperature 1: a plain softmax draw.
SamplerParams plain(uint64_t seed = 1234) {
    SamplerParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.typical_p = 1.0f;
    p.seed = seed;
    return p;
}

std::vector<float> logits_of(const std::vector<float>& probs) {
    std::vector<float> out;
    for (float p : probs) out.push_back(p > 0.0f ? std::log(p) : -kInf);
    return out;
}

// Frequencies of each token over `n` draws.
std::vector<double> frequencies(Sampler& sampler, const std::vector<float>& logits, int n,
                                std::span<const int32_t> history = {}) {
    std::vector<double> counts(logits.size(), 0.0);
    for (int i = 0; i < n; ++i) counts[static_cast<size_t>(sampler.sample(logits, history))] += 1.0;
    for (double& c : counts) c /= n;
    return counts;
}

TEST(Sampler, GreedyPicksArgmaxAndLowestIdOnTies) {
    SamplerParams p = plain();
    p.temperature = 0.0f;
    Sampler s(p);
    EXPECT_EQ(s.sample(std::vector<float>{0.1f, 3.0f, -2.0f, 2.9f}, {}), 1);
    EXPECT_EQ(s.sample(std::vector<float>{1.0f, 5.0f, 5.0f, 5.0f}, {}), 1);
    p.temperature = -1.0f;
    Sampler negative(p);
    EXPECT_EQ(negative.sample(std::vector<float>{0.0f, 0.0f, 7.0f}, {}), 2);
}

TEST(Sampler, SingleFiniteLogitIsAlwaysChosen) {
    std::vector<float> logits(1000, -kInf);
    logits[777] = -50.0f;
    for (float temp : {0.0f, 0.5f, 1.0f, 5.0f}) {
        SamplerParams p = plain();
        p.temperature = temp;
        p.top_k = 40;
        p.top_p = 0.9f;
        p.min_p = 0.1f;
        p.typical_p = 0.5f;
        Sampler s(p);
        for (int i = 0; i < 50; ++i) EXPECT_EQ(s.sample(logits, {}), 777) << "temp " << temp;
    }
}

TEST(Sampler, AllInfiniteOrNanGivesTokenZero) {
    Sampler s(plain());
    EXPECT_EQ(s.sample(std::vector<float>(8, -kInf), {}), 0);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    EXPECT_EQ(s.sample(std::vector<float>(8, nan), {}), 0);
}

TEST(Sampler, NanLogitsAreNeverChosen) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> logits = {nan, 0.0f, nan, 0.0f, nan};
    Sampler s(plain());
    for (int i = 0; i < 200; ++i) {
        const int32_t t = s.sample(logits, {});
        EXPECT_TRUE(t == 1 || t == 3) << t;
    }
    SampleLogprobs lp;
    s.sample(logits, {}, 5, &lp);
    ASSERT_EQ(lp.top.size(), 2u);
    for (const auto& e : lp.top) EXPECT_FALSE(std::isnan(e.logprob));
}

TEST(Sampler, FrequenciesFollowSoftmax) {
    const std::vector<float> probs = {0.5f, 0.25f, 0.15f, 0.1f};
    Sampler s(plain());
    const auto freq = frequencies(s, logits_of(probs), 40000);
    for (size_t i = 0; i < probs.size(); ++i) EXPECT_NEAR(freq[i], probs[i], 0.01) << i;
}

TEST(Sampler, TemperatureSharpensAndFlattens) {
    const std::vector<float> logits = logits_of({0.6f, 0.3f, 0.1f});
    SamplerParams cold = plain();
    cold.temperature = 0.5f;  // p ~ p^2: 0.36, 0.09, 0.01 normalised
    Sampler s(cold);
    auto freq = frequencies(s, logits, 40000);
    EXPECT_NEAR(freq[0], 0.36 / 0.46, 0.01);
    EXPECT_NEAR(freq[2], 0.01 / 0.46, 0.005);
    SamplerParams hot = plain();
    hot.temperature = 100.0f;
    Sampler h(hot);
    freq = frequencies(h, logits, 40000);
    for (double f : freq) EXPECT_NEAR(f, 1.0 / 3.0, 0.015);
}

TEST(Sampler, TopKKeepsOnlyTheKMostLikely) {
    SamplerParams p = plain();
    p.top_k = 2;
    Sampler s(p);
    const auto freq = frequencies(s, logits_of({0.1f, 0.4f, 0.2f, 0.3f}), 20000);
    EXPECT_EQ(freq[0], 0.0);
    EXPECT_EQ(freq[2], 0.0);
    EXPECT_NEAR(freq[1], 4.0 / 7.0, 0.015);
    EXPECT_NEAR(freq[3], 3.0 / 7.0, 0.015);
}

TEST(Sampler, TopKLargerThanVocabIsANoOp) {
    SamplerParams p = plain();
    p.top_k = 1000;
    Sampler s(p);
    const auto freq = frequencies(s, logits_of({0.25f, 0.25f, 0.5f}), 20000);
    EXPECT_NEAR(freq[0], 0.25, 0.015);
    EXPECT_NEAR(freq[2], 0.5, 0.015);
}

TEST(Sampler, TopPKeepsTheSmallestNucleus) {
    const std::vector<float> logits = logits_of({0.15f, 0.5f, 0.05f, 0.3f});
    SamplerParams p = plain();
    p.top_p = 0.75f;  // 0.5 + 0.3 >= 0.75
    Sampler s(p);
    auto freq = frequencies(s, logits, 20000);
    EXPECT_EQ(freq[0] + freq[2], 0.0);
    EXPECT_NEAR(freq[1], 0.5 / 0.8, 0.015);
    p.top_p = 0.85f;  // needs the 0.15 token too
    Sampler s2(p);
    freq = frequencies(s2, logits, 20000);
    EXPECT_EQ(freq[2], 0.0);
    EXPECT_GT(freq[0], 0.1);
}

TEST(Sampler, TopPZeroIsGreedy) {
    SamplerParams p = plain();
    p.top_p = 0.0f;
    Sampler s(p);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(s.sample(logits_of({0.3f, 0.3001f, 0.2f, 0.1999f}), {}), 1);
}

TEST(Sampler, MinPDropsTokensBelowTheScaledMaximum) {
    SamplerParams p = plain();
    p.min_p = 0.25f;  // threshold 0.125 with p_max 0.5
    Sampler s(p);
    const auto freq = frequencies(s, logits_of({0.5f, 0.2f, 0.13f, 0.12f, 0.05f}), 20000);
    EXPECT_EQ(freq[3] + freq[4], 0.0);
    EXPECT_NEAR(freq[0], 0.5 / 0.83, 0.015);
    p.min_p = 1.0f;
    Sampler only_max(p);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(only_max.sample(logits_of({0.2f, 0.5f, 0.3f}), {}), 1);
}

TEST(Sampler, TypicalKeepsTokensWhoseSurpriseIsNearTheEntropy) {
    // H = 1.2799 nats; |-log p - H| = 0.364, 0.076, 0.329, 1.023: order 1, 2, 0, 3.
    const std::vector<float> logits = logits_of({0.4f, 0.3f, 0.2f, 0.1f});
    SamplerParams p = plain();
    p.typical_p = 0.25f;
    Sampler s(p);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(s.sample(logits, {}), 1);
    p.typical_p = 0.45f;
    Sampler s2(p);
    const auto freq = frequencies(s2, logits, 20000);
    EXPECT_EQ(freq[0] + freq[3], 0.0);
    EXPECT_NEAR(freq[1], 0.6, 0.015);
}

TEST(Sampler, RepeatPenaltyDividesPositiveAndMultipliesNegative) {
    SamplerParams p = plain();
    p.temperature = 0.0f;
    p.repeat_penalty = 2.0f;
    Sampler s(p);
    const std::vector<int32_t> history = {0};
    EXPECT_EQ(s.sample(std::vector<float>{3.0f, 2.0f}, history), 1);     // 3 / 2 < 2
    EXPECT_EQ(s.sample(std::vector<float>{-1.0f, -1.5f}, history), 1);   // -1 * 2 < -1.5
    EXPECT_EQ(s.sample(std::vector<float>{5.0f, 2.0f}, history), 0);     // 2.5 > 2
}

TEST(Sampler, PresenceAndFrequencyPenaltiesOverTheWindow) {
    SamplerParams p = plain();
    p.temperature = 0.0f;
    p.frequency_penalty = 0.1f;
    Sampler s(p);
    const std::vector<int32_t> history = {0, 0, 0};
    EXPECT_EQ(s.sample(std::vector<float>{1.0f, 0.75f}, history), 1);  // 1 - 0.3 < 0.75
    EXPECT_EQ(s.sample(std::vector<float>{1.0f, 0.65f}, history), 0);
    p.frequency_penalty = 0.0f;
    p.presence_penalty = 0.3f;
    Sampler presence(p);
    EXPECT_EQ(presence.sample(std::vector<float>{1.0f, 0.75f}, history), 1);  // counted once
    EXPECT_EQ(presence.sample(std::vector<float>{1.0f, 0.65f}, history), 0);
    // Only the last penalty_last_n tokens count; out-of-range ids are ignored.
    p.penalty_last_n = 1;
    Sampler windowed(p);
    const std::vector<int32_t> old_then_new = {0, 0, -5, 99, 1};
    EXPECT_EQ(windowed.sample(std::vector<float>{1.0f, 1.2f}, old_then_new), 0);
    p.penalty_last_n = 0;
    Sampler off(p);
    EXPECT_EQ(off.sample(std::vector<float>{1.0f, 0.9f}, history), 0);
}

TEST(Sampler, LogitBiasBansAndPromotes) {
    SamplerParams p = plain();
    p.temperature = 0.0f;
    p.logit_bias = {{2, -kInf}, {0, 1.5f}, {-3, 9.0f}, {100, 9.0f}};
    Sampler s(p);
    EXPECT_EQ(s.sample(std::vector<float>{1.0f, 2.0f, 9.0f}, {}), 0);  // 2.5 > 2, token 2 banned
    p.temperature = 1.0f;
    p.logit_bias = {{1, -kInf}};
    Sampler sampled(p);
    for (int i = 0; i < 200; ++i) EXPECT_NE(sampled.sample(std::vector<float>{0.0f, 0.0f, 0.0f}, {}), 1);
}

TEST(Sampler, SameSeedSameSequenceDifferentSeedDifferentSequence) {
    std::mt19937 gen(7);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    std::vector<float> logits(5000);
    for (float& l : logits) l = normal(gen);
    SamplerParams p;  // the default chain: top-k 40, top-p 0.95, min-p 0.05, temp 0.8
    p.seed = 42;
    auto run = [&](uint64_t seed) {
        p.seed = seed;
        Sampler s(p);
        std::vector<int32_t> out;
        for (int i = 0; i < 64; ++i) out.push_back(s.sample(logits, out));
        return out;
    };
    EXPECT_EQ(run(42), run(42));
    EXPECT_NE(run(42), run(43));
    Sampler s(p);
    const int32_t first = s.sample(logits, {});
    s.reseed(p.seed);  // restarts the same sequence
    EXPECT_EQ(s.sample(logits, {}), first);
}

TEST(Sampler, LogprobsDescribeTheFinalDistribution) {
    const std::vector<float> probs = {0.1f, 0.4f, 0.2f, 0.3f};
    SamplerParams p = plain();
    p.top_k = 3;
    Sampler s(p);
    SampleLogprobs lp;
    const int32_t token = s.sample(logits_of(probs), {}, 10, &lp);
    ASSERT_EQ(lp.top.size(), 3u);  // top-k removed token 0
    EXPECT_EQ(lp.top[0].id, 1);
    EXPECT_EQ(lp.top[1].id, 3);
    EXPECT_EQ(lp.top[2].id, 2);
    EXPECT_NEAR(std::exp(lp.top[0].logprob), 0.4 / 0.9, 1e-5);
    double mass = 0.0;
    for (const auto& e : lp.top) {
        mass += std::exp(static_cast<double>(e.logprob));
        if (e.id == token) {
            EXPECT_FLOAT_EQ(e.logprob, lp.chosen_logprob);
        }
    }
    EXPECT_NEAR(mass, 1.0, 1e-5);

    p.temperature = 0.0f;  // greedy reports the temperature-1 softmax of all tokens
    Sampler greedy(p);
    EXPECT_EQ(greedy.sample(logits_of(probs), {}, 2, &lp), 1);
    ASSERT_EQ(lp.top.size(), 2u);
    EXPECT_NEAR(std::exp(lp.chosen_logprob), 0.4, 1e-5);
    EXPECT_NEAR(std::exp(lp.top[1].logprob), 0.3, 1e-5);
}

TEST(Sampler, LargeVocabularyStaysInsideTheBruteForceNucleus) {
    constexpr size_t kVocab = 128 * 1024;
    std::mt19937 gen(3);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> logits(kVocab);
    for (float& l : logits) l = normal(gen);
    const float max_logit = *std::max_element(logits.begin(), logits.end());
    std::vector<double> prob(kVocab);
    double total = 0.0;
    for (size_t i = 0; i < kVocab; ++i) total += prob[i] = std::exp(static_cast<double>(logits[i] - max_logit));
    std::vector<size_t> order(kVocab);
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return logits[a] > logits[b]; });
    std::set<int32_t> nucleus;
    double cumulative = 0.0;
    for (size_t i : order) {
        nucleus.insert(static_cast<int32_t>(i));
        cumulative += prob[i] / total;
        if (cumulative >= 0.5) break;
    }
    SamplerParams p = plain();
    p.top_p = 0.5f;
    Sampler s(p);
    std::set<int32_t> seen;
    for (int i = 0; i < 500; ++i) {
        const int32_t t = s.sample(logits, {});
        EXPECT_TRUE(nucleus.count(t)) << t;
        seen.insert(t);
    }
    EXPECT_GT(seen.size(), 10u);  // it really samples
    p.top_k = 5;
    Sampler k(p);
    for (int i = 0; i < 200; ++i) {
        const int32_t t = k.sample(logits, {});
        EXPECT_TRUE(std::find(order.begin(), order.begin() + 5, static_cast<size_t>(t)) != order.begin() + 5);
    }
}

// Typical-p and top-p select by mass without sorting; compare with a brute-force sort.
TEST(Sampler, MassSelectionMatchesBruteForce) {
    constexpr size_t kVocab = 5000;
    std::mt19937 gen(11);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    std::vector<float> logits(kVocab);
    for (float& l : logits) l = normal(gen);
    logits[7] = logits[8] = logits[9] = 3.0f;  // ties
    const float max_logit = *std::max_element(logits.begin(), logits.end());
    std::vector<double> prob(kVocab);
    double total = 0.0;
    for (size_t i = 0; i < kVocab; ++i) total += prob[i] = std::exp(static_cast<double>(logits[i] - max_logit));
    double entropy = 0.0;
    for (double& p : prob) {
        p /= total;
        entropy -= p * std::log(p);
    }
    std::vector<size_t> order(kVocab);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return std::abs(-std::log(prob[a]) - entropy) < std::abs(-std::log(prob[b]) - entropy);
    });
    std::set<int32_t> typical;
    double mass = 0.0;
    for (size_t i : order) {
        typical.insert(static_cast<int32_t>(i));
        mass += prob[i];
        if (mass > 0.3) break;
    }
    SamplerParams p = plain();
    p.typical_p = 0.3f;
    Sampler s(p);
    SampleLogprobs lp;
    s.sample(logits, {}, static_cast<int32_t>(kVocab), &lp);
    std::set<int32_t> kept;
    for (const auto& e : lp.top) kept.insert(e.id);
    EXPECT_EQ(kept, typical);
}

TEST(Sampler, TopPTiesResolveToLowerIds) {
    std::vector<float> logits(1000, 0.0f);  // uniform: the nucleus of 0.01 is 10 tokens
    SamplerParams p = plain();
    p.top_p = 0.0095f;
    Sampler s(p);
    SampleLogprobs lp;
    s.sample(logits, {}, 100, &lp);
    ASSERT_EQ(lp.top.size(), 10u);
    for (const auto& e : lp.top) EXPECT_LT(e.id, 10);
}

TEST(Sampler, MinKeepHoldsCandidatesThroughTruncation) {
    SamplerParams p = plain();
    p.top_p = 0.0f;
    p.min_keep = 2;
    Sampler s(p);
    const auto freq = frequencies(s, logits_of({0.5f, 0.3f, 0.2f}), 20000);
    EXPECT_EQ(freq[2], 0.0);
    EXPECT_NEAR(freq[1], 0.3 / 0.8, 0.015);
}

}  // namespace
}  // namespace rf::sampling
