// Mixture-of-experts routing and expert dispatch on the CPU.
#include "backend/cpu/ops_moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "backend/cpu/ops_basic.h"
#include "core/check.h"

namespace rf::cpu {

void moe_route(const float* logits, int64_t n_expert, int64_t n_tokens, int32_t k, bool normalize,
               int32_t* ids_out, float* weights_out) {
    for (int64_t t = 0; t < n_tokens; ++t) {
        const float* row = logits + t * n_expert;
        int32_t* ids = ids_out + t * k;
        float* w = weights_out + t * k;
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t e = 0; e < n_expert; ++e) mx = std::max(mx, row[e]);
        double total = 0.0;
        for (int64_t e = 0; e < n_expert; ++e) total += std::exp(static_cast<double>(row[e] - mx));
        // Selection of the k largest (k is small: a few passes beat a sort).
        for (int32_t j = 0; j < k; ++j) {
            int32_t best = -1;
            for (int64_t e = 0; e < n_expert; ++e) {
                bool taken = false;
                for (int32_t i = 0; i < j; ++i) taken = taken || ids[i] == e;
                if (!taken && (best < 0 || row[e] > row[best])) best = static_cast<int32_t>(e);
            }
            ids[j] = best;
            w[j] = static_cast<float>(std::exp(static_cast<double>(row[best] - mx)) / total);
        }
        if (normalize) {
            float sum = 0.0f;
            for (int32_t j = 0; j < k; ++j) sum += w[j];
            for (int32_t j = 0; j < k; ++j) w[j] /= sum;
        }
    }
}

void moe_ffn(const MatrixView& router, const ExpertTensor& gate, const ExpertTensor& up,
             const ExpertTensor& down, int32_t k, bool normalize, const float* x,
             int64_t n_tokens, float* out, ThreadPool& pool, MoeScratch& s) {
    const int64_t n_embd = router.n_cols;
    const int64_t n_expert = router.n_rows;
    const int64_t n_ff = gate.n_rows;
    RF_CHECK(up.n_rows == n_ff && down.n_cols == n_ff && down.n_rows == n_embd);
    auto grow = [](auto& v, size_t n) {
        if (v.size() < n) v.resize(n);
    };
    const size_t nt = static_cast<size_t>(n_tokens);
    grow(s.logits, nt * static_cast<size_t>(n_expert));
    grow(s.ids, nt * static_cast<size_t>(k));
    grow(s.weights, nt * static_cast<size_t>(k));
    grow(s.rows, nt);
    grow(s.xe, nt * static_cast<size_t>(n_embd));
    grow(s.gate, nt * static_cast<size_t>(n_ff));
    grow(s.up, nt * static_cast<size_t>(n_ff));
    grow(s.down, nt * static_cast<size_t>(n_embd));

    matmul(router, x, n_tokens, s.logits.data(), pool);
    moe_route(s.logits.data(), n_expert, n_tokens, k, normalize, s.ids.data(), s.weights.data());
    std::memset(out, 0, nt * static_cast<size_t>(n_embd) * sizeof(float));
    for (int32_t e = 0; e < n_expert; ++e) {
        // Gather the tokens routed to expert e.
        int64_t m = 0;
        for (int64_t t = 0; t < n_tokens; ++t) {
            for (int32_t j = 0; j < k; ++j) {
                if (s.ids[static_cast<size_t>(t * k + j)] != e) continue;
                s.rows[static_cast<size_t>(m)] = static_cast<int32_t>(t * k + j);
                std::memcpy(s.xe.data() + m * n_embd, x + t * n_embd, static_cast<size_t>(n_embd) * sizeof(float));
                ++m;
            }
        }
        if (m == 0) continue;
        matmul(gate.expert(e), s.xe.data(), m, s.gate.data(), pool);
        matmul(up.expert(e), s.xe.data(), m, s.up.data(), pool);
        swiglu_vec(s.gate.data(), s.up.data(), s.gate.data(), m * n_ff);
        matmul(down.expert(e), s.gate.data(), m, s.down.data(), pool);
        // Scatter: out[t] += w * down row.
        for (int64_t i = 0; i < m; ++i) {
            const int32_t slot = s.rows[static_cast<size_t>(i)];
            const float w = s.weights[static_cast<size_t>(slot)];
            float* o = out + static_cast<int64_t>(slot / k) * n_embd;
            const float* d = s.down.data() + i * n_embd;
            for (int64_t c = 0; c < n_embd; ++c) o[c] += w * d[c];
        }
    }
}

}  // namespace rf::cpu
