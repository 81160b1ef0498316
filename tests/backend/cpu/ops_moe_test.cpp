// MoE routing (softmax top-k, optional renormalisation) and the routed SwiGLU expert FFN against
// float64 references.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "backend/cpu/ops_moe.h"

namespace rf::cpu {
namespace {

std::vector<float> random_vec(size_t n, uint32_t seed, float scale) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-scale, scale);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

TEST(OpsMoe, RouteTopK) {
    const int64_t n_expert = 7, n_tokens = 4;
    const int32_t k = 3;
    auto logits = random_vec(static_cast<size_t>(n_expert * n_tokens), 1, 3.0f);
    for (bool normalize : {false, true}) {
        std::vector<int32_t> ids(static_cast<size_t>(n_tokens * k));
        std::vector<float> w(ids.size());
        moe_route(logits.data(), n_expert, n_tokens, k, normalize, ids.data(), w.data());
        for (int64_t t = 0; t < n_tokens; ++t) {
            const float* row = logits.data() + t * n_expert;
            std::vector<int> order(static_cast<size_t>(n_expert));
            std::iota(order.begin(), order.end(), 0);
            std::sort(order.begin(), order.end(), [&](int a, int b) { return row[a] > row[b]; });
            double total = 0, top = 0;
            for (int64_t e = 0; e < n_expert; ++e) total += std::exp(static_cast<double>(row[e]));
            for (int j = 0; j < k; ++j) top += std::exp(static_cast<double>(row[order[static_cast<size_t>(j)]]));
            for (int j = 0; j < k; ++j) {
                const size_t i = static_cast<size_t>(t * k + j);
                EXPECT_EQ(ids[i], order[static_cast<size_t>(j)]);
                const double p = std::exp(static_cast<double>(row[ids[i]])) / (normalize ? top : total);
                EXPECT_NEAR(w[i], p, 1e-6);
            }
        }
    }
}

TEST(OpsMoe, ExpertFfnMatchesReference) {
    const int64_t n_embd = 24, n_ff = 40, n_expert = 5, n_tokens = 9;
    const int32_t k = 2;
    auto router = random_vec(static_cast<size_t>(n_embd * n_expert), 2, 0.5f);
    auto gate = random_vec(static_cast<size_t>(n_embd * n_ff * n_expert), 3, 0.3f);
    auto up = random_vec(gate.size(), 4, 0.3f);
    auto down = random_vec(static_cast<size_t>(n_ff * n_embd * n_expert), 5, 0.3f);
    auto x = random_vec(static_cast<size_t>(n_embd * n_tokens), 6, 1.0f);
    const MatrixView rv{quant::GgmlType::kF32, router.data(), n_embd, n_expert, static_cast<size_t>(n_embd) * 4};
    auto experts = [](const std::vector<float>& v, int64_t cols, int64_t rows) {
        return ExpertTensor{quant::GgmlType::kF32, reinterpret_cast<const uint8_t*>(v.data()), cols, rows,
                            static_cast<size_t>(cols) * 4, static_cast<size_t>(cols * rows) * 4};
    };
    std::vector<float> out(static_cast<size_t>(n_embd * n_tokens));
    ThreadPool pool(2);
    MoeScratch scratch;
    moe_ffn(rv, experts(gate, n_embd, n_ff), experts(up, n_embd, n_ff), experts(down, n_ff, n_embd), k, true,
            x.data(), n_tokens, out.data(), pool, scratch);

    for (int64_t t = 0; t < n_tokens; ++t) {
        const float* xt = x.data() + t * n_embd;
        std::vector<double> logit(static_cast<size_t>(n_expert));
        for (int64_t e = 0; e < n_expert; ++e) {
            for (int64_t i = 0; i < n_embd; ++i) logit[static_cast<size_t>(e)] += static_cast<double>(router[static_cast<size_t>(e * n_embd + i)] * xt[i]);
        }
        std::vector<int> order(static_cast<size_t>(n_expert));
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int a, int b) { return logit[static_cast<size_t>(a)] > logit[static_cast<size_t>(b)]; });
        double wsum = 0;
        for (int j = 0; j < k; ++j) wsum += std::exp(logit[static_cast<size_t>(order[static_cast<size_t>(j)])]);
        std::vector<double> ref(static_cast<size_t>(n_embd), 0.0);
        for (int j = 0; j < k; ++j) {
            const int64_t e = order[static_cast<size_t>(j)];
            const double w = std::exp(logit[static_cast<size_t>(e)]) / wsum;
            std::vector<double> h(static_cast<size_t>(n_ff));
            for (int64_t f = 0; f < n_ff; ++f) {
                double g = 0, u = 0;
                for (int64_t i = 0; i < n_embd; ++i) {
                    const size_t wi = static_cast<size_t>((e * n_ff + f) * n_embd + i);
                    g += static_cast<double>(gate[wi] * xt[i]);
                    u += static_cast<double>(up[wi] * xt[i]);
                }
                h[static_cast<size_t>(f)] = g / (1 + std::exp(-g)) * u;
            }
            for (int64_t o = 0; o < n_embd; ++o) {
                double d = 0;
                for (int64_t f = 0; f < n_ff; ++f) d += static_cast<double>(down[static_cast<size_t>((e * n_embd + o) * n_ff + f)]) * h[static_cast<size_t>(f)];
                ref[static_cast<size_t>(o)] += w * d;
            }
        }
        for (int64_t o = 0; o < n_embd; ++o) {
            EXPECT_NEAR(out[static_cast<size_t>(t * n_embd + o)], ref[static_cast<size_t>(o)], 1e-4) << "token " << t;
        }
    }
}

}  // namespace
}  // namespace rf::cpu
