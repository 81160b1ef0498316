// Shared transformer blocks built from Backend ops; shapes are [width, n_tokens].
#include "model/layers.h"

#include <algorithm>

namespace rf::model {

void attention_block(ForwardState& s, const LayerWeights& l, int32_t kv_layer, Tensor& x, const Tensor& next_norm) {
    engine::Backend& b = s.b;
    const int32_t n = s.n_tokens;
    const HParams& hp = s.hp;
    Tensor xn = s.a.xn.first_rows(n);
    Tensor q = s.a.q.first_rows(n);
    Tensor k = s.a.k.first_rows(n);
    Tensor v = s.a.v.first_rows(n);

    // Projections: q [n_head * hd_k, n], k [n_head_kv * hd_k, n], v [n_head_kv * hd_v, n].
    const Tensor* ws[] = {&l.wq, &l.wk, &l.wv};
    Tensor* ys[] = {&q, &k, &v};
    b.matmul_shared_input(ws, xn, ys);
    if (!l.bq.empty()) b.add_bias(q, l.bq);
    if (!l.bk.empty()) b.add_bias(k, l.bk);
    if (!l.bv.empty()) b.add_bias(v, l.bv);

    // Per-head views [hd_k, n_head * n] for the Q/K norms and RoPE.
    Tensor qh = q.reshaped(hp.head_dim_k, int64_t{hp.n_head} * n);
    Tensor kh = k.reshaped(hp.head_dim_k, int64_t{hp.n_head_kv} * n);
    if (!l.q_norm.empty()) b.rms_norm(qh, l.q_norm, hp.rms_eps, qh);
    if (!l.k_norm.empty()) b.rms_norm(kh, l.k_norm, hp.rms_eps, kh);

    // Rotate, cache this step's K/V, then attend over each token's sequence prefix.
    b.rope_store_kv(kv_layer, q, k, v, hp.n_head, hp.n_head_kv, s.rope);
    Tensor attn = s.a.attn.first_rows(n);
    b.attention(kv_layer, q, attn, s.attn);
    Tensor scratch = s.a.block.first_rows(n);
    b.matmul_add_rms_norm(l.wo, attn, scratch, x, next_norm, hp.rms_eps, xn);
}

void dense_ffn_block(ForwardState& s, const LayerWeights& l, Tensor& x, const Tensor* next_norm) {
    const int32_t n = s.n_tokens;
    Tensor xn = s.a.xn.first_rows(n);
    Tensor gate = s.a.gate.first_rows(n);
    Tensor up = s.a.up.first_rows(n);
    Tensor scratch = s.a.block.first_rows(n);
    s.b.matmul_swiglu(l.ffn_gate, l.ffn_up, xn, up, gate);
    if (next_norm != nullptr) {
        s.b.matmul_add_rms_norm(l.ffn_down, gate, scratch, x, *next_norm, s.hp.rms_eps, xn);
    } else {
        s.b.matmul_add(l.ffn_down, gate, scratch, x);
    }
}

void moe_ffn_block(ForwardState& s, const LayerWeights& l, Tensor& out) {
    engine::MoeParams p;
    p.n_expert = s.hp.n_expert;
    p.n_expert_used = s.hp.n_expert_used;
    p.normalize_weights = s.hp.expert_weights_norm;
    s.b.moe_ffn(s.a.xn.first_rows(s.n_tokens), l.moe, p, out);
}

Tensor output_block(ForwardState& s) {
    if (s.n_outputs == 0) return s.a.logits.first_rows(0);
    Tensor rows = s.a.out_x.first_rows(s.n_outputs);
    Tensor rows_n = s.a.out_xn.first_rows(s.n_outputs);
    Tensor logits = s.a.logits.first_rows(s.n_outputs);
    s.b.gather_output_rows(s.a.x.first_rows(s.n_tokens), rows);
    s.b.rms_norm(rows, s.w.output_norm, s.hp.rms_eps, rows_n);
    s.b.matmul(s.w.output, rows_n, logits);
    return logits;
}

void alloc_activations(engine::Backend& b, const HParams& hp, int32_t max_tokens,
                       int32_t max_outputs, Activations& a) {
    const int64_t t = max_tokens;
    // Dense FFN scratch only for dense models (MoE backends keep their own expert scratch).
    const bool dense = hp.n_expert == 0;
    const int64_t n_ff = dense ? std::max(hp.n_ff, 1) : 1;
    a.x = b.alloc_activation(hp.n_embd, t);
    a.xn = b.alloc_activation(hp.n_embd, t);
    a.q = b.alloc_activation(int64_t{hp.n_head} * hp.head_dim_k, t);
    a.k = b.alloc_activation(int64_t{hp.n_head_kv} * hp.head_dim_k, t);
    a.v = b.alloc_activation(int64_t{hp.n_head_kv} * hp.head_dim_v, t);
    a.attn = b.alloc_activation(int64_t{hp.n_head} * hp.head_dim_v, t);
    a.block = b.alloc_activation(hp.n_embd, t);
    a.gate = b.alloc_activation(n_ff, dense ? t : 1);
    a.up = b.alloc_activation(n_ff, dense ? t : 1);
    const int64_t n_out = std::max(max_outputs, 1);
    a.out_x = b.alloc_activation(hp.n_embd, n_out);
    a.out_xn = b.alloc_activation(hp.n_embd, n_out);
    a.logits = b.alloc_activation(hp.n_vocab, n_out);
}

}  // namespace rf::model
