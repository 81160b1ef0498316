// RoPE (normal and NeoX; partial rotary dims; linear, YaRN and frequency-factor scaling) against
// a float64 reference at arbitrary positions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "backend/cpu/ops_rope.h"

namespace rf::cpu {
namespace {

// Rotates one head of head_dim values in double.
void reference_rope(const engine::RopeParams& p, const std::vector<float>& ff, int pos, double* v) {
    const int n_rot = p.n_rot;
    const double base = static_cast<double>(p.freq_base);
    const double fs = static_cast<double>(p.freq_scale);
    double low = 0, high = 0, mscale = static_cast<double>(p.attn_factor);
    if (p.ext_factor != 0.0f) {
        auto corr = [&](double rot) {
            return n_rot * std::log(p.n_ctx_orig / (rot * 2 * std::numbers::pi)) / (2 * std::log(base));
        };
        low = std::max(0.0, std::floor(corr(static_cast<double>(p.beta_fast))));
        high = std::min(n_rot - 1.0, std::ceil(corr(static_cast<double>(p.beta_slow))));
        mscale *= 1.0 + 0.1 * std::log(1.0 / fs);
    }
    for (int i = 0; i < n_rot / 2; ++i) {
        double ex = pos * std::pow(base, -2.0 * i / n_rot);
        if (!ff.empty()) ex /= static_cast<double>(ff[static_cast<size_t>(i)]);
        double theta = ex * fs;
        if (p.ext_factor != 0.0f) {
            const double ramp = 1.0 - std::clamp((i - low) / std::max(0.001, high - low), 0.0, 1.0);
            const double mix = ramp * static_cast<double>(p.ext_factor);
            theta = theta * (1 - mix) + ex * mix;
        }
        const bool neox = p.type == engine::RopeType::kNeox;
        const int a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
        const double x0 = v[a], x1 = v[b];
        v[a] = (x0 * std::cos(theta) - x1 * std::sin(theta)) * mscale;
        v[b] = (x0 * std::sin(theta) + x1 * std::cos(theta)) * mscale;
    }
}

void check(const engine::RopeParams& p, int head_dim, const std::vector<float>& ff) {
    const int n_head = 3;
    const std::vector<int32_t> positions = {0, 1, 7, 100, 2047};
    const int64_t n_tokens = static_cast<int64_t>(positions.size());
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(n_tokens * n_head * head_dim));
    for (float& v : x) v = d(rng);
    const auto orig = x;
    std::vector<float> c(static_cast<size_t>(n_tokens * p.n_rot / 2)), s(c.size());
    rope_table(p, ff.empty() ? nullptr : ff.data(), positions.data(), n_tokens, c.data(), s.data());
    rope_apply(p.type, p.n_rot, c.data(), s.data(), x.data(), head_dim, n_head, n_tokens);
    for (int64_t t = 0; t < n_tokens; ++t) {
        for (int h = 0; h < n_head; ++h) {
            const size_t off = static_cast<size_t>((t * n_head + h) * head_dim);
            std::vector<double> ref(orig.begin() + static_cast<long>(off), orig.begin() + static_cast<long>(off) + head_dim);
            reference_rope(p, ff, positions[static_cast<size_t>(t)], ref.data());
            for (int i = 0; i < head_dim; ++i) {
                EXPECT_NEAR(x[off + static_cast<size_t>(i)], ref[static_cast<size_t>(i)], 2e-4)
                    << "pos " << positions[static_cast<size_t>(t)] << " dim " << i;
            }
        }
    }
}

TEST(OpsRope, NormalAndNeox) {
    engine::RopeParams p;
    p.n_rot = 18;
    check(p, 18, {});
    p.type = engine::RopeType::kNeox;
    check(p, 18, {});
}

TEST(OpsRope, PartialRotaryDimsPassThrough) {
    engine::RopeParams p;
    p.n_rot = 8;
    p.type = engine::RopeType::kNeox;
    check(p, 22, {});
    p.type = engine::RopeType::kNormal;
    check(p, 22, {});
}

TEST(OpsRope, LinearScalingAndFrequencyFactors) {
    engine::RopeParams p;
    p.n_rot = 16;
    p.freq_base = 500000.0f;
    p.freq_scale = 0.25f;
    check(p, 16, {1.0f, 1.0f, 2.0f, 3.5f, 8.0f, 8.0f, 8.0f, 8.0f});
}

TEST(OpsRope, Yarn) {
    engine::RopeParams p;
    p.type = engine::RopeType::kNeox;
    p.n_rot = 32;
    p.freq_base = 1000000.0f;
    p.freq_scale = 0.25f;
    p.ext_factor = 1.0f;
    p.n_ctx_orig = 64;
    check(p, 32, {});
}

}  // namespace
}  // namespace rf::cpu
