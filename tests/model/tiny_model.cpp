// Tiny random transformer: GGUF writer side and the float64 reference forward pass.
#include "tiny_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <random>

#include "core/half.h"
#include "gguf/gguf_writer.h"
#include "quant/reference.h"

namespace rf::testing {
namespace {

using Vec = std::vector<double>;

std::string blk(int il, const char* s) { return "blk." + std::to_string(il) + "." + s; }

class Builder {
public:
    Builder(const TinyConfig& cfg, TinyModel& m) : cfg_(cfg), m_(m), rng_(cfg.seed) {}

    // A tensor of shape ne (ne0 first) with values uniform in [center - spread, center + spread].
    void add(const std::string& name, std::vector<uint64_t> ne, float center, float spread,
             bool matrix) {
        size_t n = 1;
        for (uint64_t d : ne) n *= d;
        std::uniform_real_distribution<float> dist(center - spread, center + spread);
        std::vector<float> v(n);
        for (float& x : v) x = dist(rng_);
        const quant::GgmlType type = matrix ? cfg_.weight_type : quant::GgmlType::kF32;
        std::vector<uint8_t> bytes;
        if (quant::traits(type).is_quantized) {
            // Quantized: the reference uses the dequantized values the file holds.
            bytes.resize(quant::row_bytes(type, n));
            const size_t row = ne[0];
            const size_t row_b = quant::row_bytes(type, row);
            for (size_t r = 0; r < n / row; ++r) {
                quant::quantize_row(type, v.data() + r * row, bytes.data() + r * row_b, static_cast<int64_t>(row));
                quant::dequantize_row(type, bytes.data() + r * row_b, v.data() + r * row, static_cast<int64_t>(row));
            }
        } else if (type == quant::GgmlType::kF16) {
            bytes.resize(n * 2);
            for (size_t i = 0; i < n; ++i) {
                const uint16_t h = float_to_fp16(v[i]);
                v[i] = fp16_to_float(h);
                std::memcpy(bytes.data() + 2 * i, &h, 2);
            }
        } else {
            bytes.resize(n * 4);
            std::memcpy(bytes.data(), v.data(), n * 4);
        }
        auto st = writer_.add_tensor(name, type, ne, std::move(bytes));
        (void)st;
        m_.weights[name] = std::move(v);
    }
    void matrix(const std::string& name, uint64_t n_in, uint64_t n_out, uint64_t n_mat = 1) {
        const float s = 1.0f / std::sqrt(static_cast<float>(n_in));
        if (n_mat == 1) add(name, {n_in, n_out}, 0.0f, 1.7f * s, true);
        else add(name, {n_in, n_out, n_mat}, 0.0f, 1.7f * s, true);
    }
    void vector(const std::string& name, uint64_t n, float center, float spread) {
        add(name, {n}, center, spread, false);
    }
    gguf::GgufWriter& writer() { return writer_; }

private:
    const TinyConfig& cfg_;
    TinyModel& m_;
    std::mt19937 rng_;
    gguf::GgufWriter writer_;
};

void write_metadata(const TinyConfig& c, gguf::GgufWriter& w) {
    using gguf::Value;
    const std::string a = c.arch;
    w.set("general.architecture", Value::string(a));
    w.set("general.name", Value::string("tiny-" + a));
    w.set(a + ".context_length", Value::u32(256));
    w.set(a + ".embedding_length", Value::u32(static_cast<uint32_t>(c.n_embd)));
    w.set(a + ".block_count", Value::u32(static_cast<uint32_t>(c.n_layer)));
    w.set(a + ".feed_forward_length", Value::u32(static_cast<uint32_t>(c.n_expert > 0 ? c.n_ff_exp : c.n_ff)));
    w.set(a + ".attention.head_count", Value::u32(static_cast<uint32_t>(c.n_head)));
    w.set(a + ".attention.head_count_kv", Value::u32(static_cast<uint32_t>(c.n_head_kv)));
    if (c.head_dim * c.n_head != c.n_embd) {
        w.set(a + ".attention.key_length", Value::u32(static_cast<uint32_t>(c.head_dim)));
        w.set(a + ".attention.value_length", Value::u32(static_cast<uint32_t>(c.head_dim)));
    }
    w.set(a + ".attention.layer_norm_rms_epsilon", Value::f32(c.rms_eps));
    w.set(a + ".rope.freq_base", Value::f32(c.rope_base));
    if (c.n_rot > 0) w.set(a + ".rope.dimension_count", Value::u32(static_cast<uint32_t>(c.n_rot)));
    if (!c.rope_scaling.empty()) {
        w.set(a + ".rope.scaling.type", Value::string(c.rope_scaling));
        w.set(a + ".rope.scaling.factor", Value::f32(c.rope_factor));
        w.set(a + ".rope.scaling.original_context_length", Value::u32(static_cast<uint32_t>(c.rope_n_ctx_orig)));
    }
    if (c.n_expert > 0) {
        w.set(a + ".expert_count", Value::u32(static_cast<uint32_t>(c.n_expert)));
        w.set(a + ".expert_used_count", Value::u32(static_cast<uint32_t>(c.n_expert_used)));
        w.set(a + ".expert_feed_forward_length", Value::u32(static_cast<uint32_t>(c.n_ff_exp)));
    }
}

}  // namespace

TinyModel make_tiny_model(const TinyConfig& c) {
    TinyModel m;
    m.cfg = c;
    Builder b(c, m);
    write_metadata(c, b.writer());
    const uint64_t E = static_cast<uint64_t>(c.n_embd);
    const uint64_t q_dim = static_cast<uint64_t>(c.n_head * c.head_dim);
    const uint64_t kv_dim = static_cast<uint64_t>(c.n_head_kv * c.head_dim);
    b.add("token_embd.weight", {E, static_cast<uint64_t>(c.n_vocab)}, 0.0f, 1.0f, true);
    b.vector("output_norm.weight", E, 1.0f, 0.2f);
    if (!c.tied_embeddings) b.matrix("output.weight", E, static_cast<uint64_t>(c.n_vocab));
    const int32_t n_rot = c.n_rot > 0 ? c.n_rot : c.head_dim;
    if (c.rope_freqs) b.add("rope_freqs.weight", {static_cast<uint64_t>(n_rot / 2)}, 2.5f, 1.5f, false);
    for (int il = 0; il < c.n_layer; ++il) {
        b.vector(blk(il, "attn_norm.weight"), E, 1.0f, 0.2f);
        b.matrix(blk(il, "attn_q.weight"), E, q_dim);
        b.matrix(blk(il, "attn_k.weight"), E, kv_dim);
        b.matrix(blk(il, "attn_v.weight"), E, kv_dim);
        b.matrix(blk(il, "attn_output.weight"), q_dim, E);
        if (c.qkv_bias) {
            b.vector(blk(il, "attn_q.bias"), q_dim, 0.0f, 0.3f);
            b.vector(blk(il, "attn_k.bias"), kv_dim, 0.0f, 0.3f);
            b.vector(blk(il, "attn_v.bias"), kv_dim, 0.0f, 0.3f);
        }
        if (c.qk_norm) {
            b.vector(blk(il, "attn_q_norm.weight"), static_cast<uint64_t>(c.head_dim), 1.0f, 0.3f);
            b.vector(blk(il, "attn_k_norm.weight"), static_cast<uint64_t>(c.head_dim), 1.0f, 0.3f);
        }
        b.vector(blk(il, "ffn_norm.weight"), E, 1.0f, 0.2f);
        if (c.n_expert > 0) {
            const uint64_t F = static_cast<uint64_t>(c.n_ff_exp);
            const uint64_t X = static_cast<uint64_t>(c.n_expert);
            b.matrix(blk(il, "ffn_gate_inp.weight"), E, X);
            b.matrix(blk(il, "ffn_gate_exps.weight"), E, F, X);
            b.matrix(blk(il, "ffn_up_exps.weight"), E, F, X);
            b.matrix(blk(il, "ffn_down_exps.weight"), F, E, X);
        } else {
            const uint64_t F = static_cast<uint64_t>(c.n_ff);
            b.matrix(blk(il, "ffn_gate.weight"), E, F);
            b.matrix(blk(il, "ffn_up.weight"), E, F);
            b.matrix(blk(il, "ffn_down.weight"), F, E);
        }
    }
    m.gguf = b.writer().write_to_memory();
    return m;
}

namespace {

// y [n_out] = W (n_in, n_out) x: row o of the stored matrix is W[o * n_in ...].
Vec matvec(const std::vector<float>& w, const Vec& x, size_t n_out, size_t offset = 0) {
    const size_t n_in = x.size();
    Vec y(n_out, 0.0);
    for (size_t o = 0; o < n_out; ++o) {
        double s = 0.0;
        for (size_t i = 0; i < n_in; ++i) s += static_cast<double>(w[offset + o * n_in + i]) * x[i];
        y[o] = s;
    }
    return y;
}

void rms_norm(Vec& x, const std::vector<float>& w, size_t begin, size_t n, double eps) {
    double ss = 0.0;
    for (size_t i = 0; i < n; ++i) ss += x[begin + i] * x[begin + i];
    const double scale = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
    for (size_t i = 0; i < n; ++i) x[begin + i] = x[begin + i] * scale * static_cast<double>(w[i]);
}

// Rotates one head in place at position pos.
void rope_head(const TinyModel& m, double* v, int pos) {
    const TinyConfig& c = m.cfg;
    const int n_rot = c.n_rot > 0 ? c.n_rot : c.head_dim;
    const bool neox = c.arch != "llama";
    const double base = static_cast<double>(c.rope_base);
    const double scale = c.rope_scaling.empty() ? 1.0 : 1.0 / static_cast<double>(c.rope_factor);
    const bool yarn = c.rope_scaling == "yarn";
    double low = 0.0, high = 0.0, mscale = 1.0;
    if (yarn) {
        auto corr = [&](double rotations) {
            return n_rot * std::log(c.rope_n_ctx_orig / (rotations * 2.0 * std::numbers::pi)) / (2.0 * std::log(base));
        };
        low = std::max(0.0, std::floor(corr(32.0)));
        high = std::min(static_cast<double>(n_rot - 1), std::ceil(corr(1.0)));
        mscale = 1.0 + 0.1 * std::log(1.0 / scale);
    }
    const auto& ff = m.weights.count("rope_freqs.weight") ? m.weights.at("rope_freqs.weight") : std::vector<float>{};
    for (int i = 0; i < n_rot / 2; ++i) {
        double theta_ex = pos * std::pow(base, -2.0 * i / n_rot);
        if (!ff.empty()) theta_ex /= static_cast<double>(ff[static_cast<size_t>(i)]);
        double theta = theta_ex * scale;
        if (yarn) {
            const double y = (i - low) / std::max(0.001, high - low);
            const double mix = 1.0 - std::clamp(y, 0.0, 1.0);
            theta = theta * (1.0 - mix) + theta_ex * mix;
        }
        const double cs = std::cos(theta) * mscale, sn = std::sin(theta) * mscale;
        const int a = neox ? i : 2 * i;
        const int b = neox ? i + n_rot / 2 : 2 * i + 1;
        const double x0 = v[a], x1 = v[b];
        v[a] = x0 * cs - x1 * sn;
        v[b] = x0 * sn + x1 * cs;
    }
}

double silu(double g) { return g / (1.0 + std::exp(-g)); }

Vec swiglu_ffn(const TinyModel& m, const std::string& gate, const std::string& up,
               const std::string& down, const Vec& x, size_t n_ff, size_t expert) {
    const size_t E = x.size();
    Vec g = matvec(m.weights.at(gate), x, n_ff, expert * n_ff * E);
    Vec u = matvec(m.weights.at(up), x, n_ff, expert * n_ff * E);
    for (size_t i = 0; i < n_ff; ++i) g[i] = silu(g[i]) * u[i];
    return matvec(m.weights.at(down), g, E, expert * n_ff * E);
}

Vec moe_ffn(const TinyModel& m, int il, const Vec& x) {
    const TinyConfig& c = m.cfg;
    Vec logits = matvec(m.weights.at(blk(il, "ffn_gate_inp.weight")), x, static_cast<size_t>(c.n_expert));
    const double mx = *std::max_element(logits.begin(), logits.end());
    Vec p(logits.size());
    double sum = 0.0;
    for (size_t e = 0; e < p.size(); ++e) sum += p[e] = std::exp(logits[e] - mx);
    for (double& v : p) v /= sum;
    std::vector<size_t> order(p.size());
    for (size_t e = 0; e < order.size(); ++e) order[e] = e;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
    double wsum = 0.0;
    for (int j = 0; j < c.n_expert_used; ++j) wsum += p[order[static_cast<size_t>(j)]];
    Vec out(x.size(), 0.0);
    for (int j = 0; j < c.n_expert_used; ++j) {
        const size_t e = order[static_cast<size_t>(j)];
        Vec y = swiglu_ffn(m, blk(il, "ffn_gate_exps.weight"), blk(il, "ffn_up_exps.weight"),
                           blk(il, "ffn_down_exps.weight"), x, static_cast<size_t>(c.n_ff_exp), e);
        for (size_t i = 0; i < out.size(); ++i) out[i] += p[e] / wsum * y[i];
    }
    return out;
}

}  // namespace

std::vector<std::vector<double>> reference_logits(const TinyModel& m,
                                                  const std::vector<int32_t>& tokens) {
    const TinyConfig& c = m.cfg;
    const size_t E = static_cast<size_t>(c.n_embd), hd = static_cast<size_t>(c.head_dim);
    const size_t nh = static_cast<size_t>(c.n_head), nkv = static_cast<size_t>(c.n_head_kv);
    const auto& W = m.weights;
    std::vector<std::vector<Vec>> kcache(static_cast<size_t>(c.n_layer)), vcache(static_cast<size_t>(c.n_layer));
    std::vector<std::vector<double>> result;
    for (size_t pos = 0; pos < tokens.size(); ++pos) {
        Vec x(E);
        const auto& embd = W.at("token_embd.weight");
        for (size_t i = 0; i < E; ++i) x[i] = static_cast<double>(embd[static_cast<size_t>(tokens[pos]) * E + i]);
        for (int il = 0; il < c.n_layer; ++il) {
            Vec xn = x;
            rms_norm(xn, W.at(blk(il, "attn_norm.weight")), 0, E, static_cast<double>(c.rms_eps));
            Vec q = matvec(W.at(blk(il, "attn_q.weight")), xn, nh * hd);
            Vec k = matvec(W.at(blk(il, "attn_k.weight")), xn, nkv * hd);
            Vec v = matvec(W.at(blk(il, "attn_v.weight")), xn, nkv * hd);
            if (c.qkv_bias) {
                for (size_t i = 0; i < q.size(); ++i) q[i] += static_cast<double>(W.at(blk(il, "attn_q.bias"))[i]);
                for (size_t i = 0; i < k.size(); ++i) k[i] += static_cast<double>(W.at(blk(il, "attn_k.bias"))[i]);
                for (size_t i = 0; i < v.size(); ++i) v[i] += static_cast<double>(W.at(blk(il, "attn_v.bias"))[i]);
            }
            for (size_t h = 0; h < nh; ++h) {
                if (c.qk_norm) rms_norm(q, W.at(blk(il, "attn_q_norm.weight")), h * hd, hd, static_cast<double>(c.rms_eps));
                rope_head(m, q.data() + h * hd, static_cast<int>(pos));
            }
            for (size_t h = 0; h < nkv; ++h) {
                if (c.qk_norm) rms_norm(k, W.at(blk(il, "attn_k_norm.weight")), h * hd, hd, static_cast<double>(c.rms_eps));
                rope_head(m, k.data() + h * hd, static_cast<int>(pos));
            }
            kcache[static_cast<size_t>(il)].push_back(k);
            vcache[static_cast<size_t>(il)].push_back(v);
            Vec attn(nh * hd, 0.0);
            for (size_t h = 0; h < nh; ++h) {
                const size_t g = h / (nh / nkv);
                Vec s(pos + 1);
                double mx = -1e300;
                for (size_t j = 0; j <= pos; ++j) {
                    double d = 0.0;
                    for (size_t i = 0; i < hd; ++i) d += q[h * hd + i] * kcache[static_cast<size_t>(il)][j][g * hd + i];
                    s[j] = d / std::sqrt(static_cast<double>(hd));
                    mx = std::max(mx, s[j]);
                }
                double sum = 0.0;
                for (double& e : s) sum += e = std::exp(e - mx);
                for (size_t j = 0; j <= pos; ++j) {
                    for (size_t i = 0; i < hd; ++i) attn[h * hd + i] += s[j] / sum * vcache[static_cast<size_t>(il)][j][g * hd + i];
                }
            }
            Vec o = matvec(W.at(blk(il, "attn_output.weight")), attn, E);
            for (size_t i = 0; i < E; ++i) x[i] += o[i];
            xn = x;
            rms_norm(xn, W.at(blk(il, "ffn_norm.weight")), 0, E, static_cast<double>(c.rms_eps));
            Vec f = c.n_expert > 0 ? moe_ffn(m, il, xn)
                                   : swiglu_ffn(m, blk(il, "ffn_gate.weight"), blk(il, "ffn_up.weight"),
                                                blk(il, "ffn_down.weight"), xn, static_cast<size_t>(c.n_ff), 0);
            for (size_t i = 0; i < E; ++i) x[i] += f[i];
        }
        rms_norm(x, W.at("output_norm.weight"), 0, E, static_cast<double>(c.rms_eps));
        const auto& out = c.tied_embeddings ? W.at("token_embd.weight") : W.at("output.weight");
        result.push_back(matvec(out, x, static_cast<size_t>(c.n_vocab)));
    }
    return result;
}

}  // namespace rf::testing
