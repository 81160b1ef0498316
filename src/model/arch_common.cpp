// The architecture registry, tensor-binding helpers and the shared decoder forward pass.
#include <array>

#include "model/arch.h"

namespace rf::model {
namespace {

constexpr std::array<const ArchSpec*, 4> kArchs = {&kLlamaArch, &kQwen2Arch, &kQwen3Arch,
                                                    &kQwen3MoeArch};

}  // namespace

const ArchSpec* find_arch(std::string_view name) {
    for (const ArchSpec* a : kArchs) {
        if (a->name == name) return a;
    }
    return nullptr;
}

std::string supported_archs() {
    std::string s;
    for (const ArchSpec* a : kArchs) s += (s.empty() ? "" : ", ") + std::string(a->name);
    return s;
}

Status bind_embeddings(WeightLoader& l, const HParams& hp, Weights& w) {
    RF_ASSIGN_OR_RETURN(w.token_embd, l.require("token_embd.weight", {hp.n_embd, hp.n_vocab},
                                                WeightKind::kEmbedding));
    RF_ASSIGN_OR_RETURN(w.output_norm,
                        l.require("output_norm.weight", {hp.n_embd}, WeightKind::kVector));
    RF_ASSIGN_OR_RETURN(w.output, l.optional("output.weight", {hp.n_embd, hp.n_vocab}));
    w.tied_embeddings = w.output.empty();
    const Placement& p = l.placement();
    if (w.tied_embeddings && p.stages().size() == 1) {
        w.output = w.token_embd;
    } else if (w.tied_embeddings) {
        RF_ASSIGN_OR_RETURN(w.output, l.require("token_embd.weight", {hp.n_embd, hp.n_vocab},
                                                WeightKind::kEmbedding, p.last().backend));
    }
    for (const Stage& stage : p.stages()) {
        RF_ASSIGN_OR_RETURN(Tensor freqs, l.optional("rope_freqs.weight", {hp.n_rot / 2},
                                                     WeightKind::kVector, stage.backend));
        w.rope_freqs.push_back(freqs);
    }
    return Status::ok();
}

Status bind_attention(WeightLoader& l, const HParams& hp, int32_t il, bool qkv_bias,
                      bool qk_norm, LayerWeights& lw) {
    const int64_t q_dim = int64_t{hp.n_head} * hp.head_dim_k;
    const int64_t k_dim = int64_t{hp.n_head_kv} * hp.head_dim_k;
    const int64_t v_dim = int64_t{hp.n_head_kv} * hp.head_dim_v;
    const int64_t o_dim = int64_t{hp.n_head} * hp.head_dim_v;
    constexpr WeightKind kVec = WeightKind::kVector;
    RF_ASSIGN_OR_RETURN(lw.attn_norm, l.require(layer_tensor(il, "attn_norm.weight"), {hp.n_embd}, kVec));
    RF_ASSIGN_OR_RETURN(lw.wq, l.require(layer_tensor(il, "attn_q.weight"), {hp.n_embd, q_dim}));
    RF_ASSIGN_OR_RETURN(lw.wk, l.require(layer_tensor(il, "attn_k.weight"), {hp.n_embd, k_dim}));
    RF_ASSIGN_OR_RETURN(lw.wv, l.require(layer_tensor(il, "attn_v.weight"), {hp.n_embd, v_dim}));
    RF_ASSIGN_OR_RETURN(lw.wo, l.require(layer_tensor(il, "attn_output.weight"), {o_dim, hp.n_embd}));
    if (qkv_bias) {
        RF_ASSIGN_OR_RETURN(lw.bq, l.require(layer_tensor(il, "attn_q.bias"), {q_dim}, kVec));
        RF_ASSIGN_OR_RETURN(lw.bk, l.require(layer_tensor(il, "attn_k.bias"), {k_dim}, kVec));
        RF_ASSIGN_OR_RETURN(lw.bv, l.require(layer_tensor(il, "attn_v.bias"), {v_dim}, kVec));
    } else {
        // Some llama-family conversions carry optional biases; honour them when present.
        RF_ASSIGN_OR_RETURN(lw.bq, l.optional(layer_tensor(il, "attn_q.bias"), {q_dim}, kVec));
        RF_ASSIGN_OR_RETURN(lw.bk, l.optional(layer_tensor(il, "attn_k.bias"), {k_dim}, kVec));
        RF_ASSIGN_OR_RETURN(lw.bv, l.optional(layer_tensor(il, "attn_v.bias"), {v_dim}, kVec));
    }
    if (qk_norm) {
        RF_ASSIGN_OR_RETURN(lw.q_norm, l.require(layer_tensor(il, "attn_q_norm.weight"), {hp.head_dim_k}, kVec));
        RF_ASSIGN_OR_RETURN(lw.k_norm, l.require(layer_tensor(il, "attn_k_norm.weight"), {hp.head_dim_k}, kVec));
    }
    return Status::ok();
}

Status bind_dense_ffn(WeightLoader& l, const HParams& hp, int32_t il, LayerWeights& lw) {
    RF_ASSIGN_OR_RETURN(lw.ffn_norm, l.require(layer_tensor(il, "ffn_norm.weight"), {hp.n_embd}, WeightKind::kVector));
    RF_ASSIGN_OR_RETURN(lw.ffn_gate, l.require(layer_tensor(il, "ffn_gate.weight"), {hp.n_embd, hp.n_ff}));
    RF_ASSIGN_OR_RETURN(lw.ffn_up, l.require(layer_tensor(il, "ffn_up.weight"), {hp.n_embd, hp.n_ff}));
    RF_ASSIGN_OR_RETURN(lw.ffn_down, l.require(layer_tensor(il, "ffn_down.weight"), {hp.n_ff, hp.n_embd}));
    return Status::ok();
}

Status bind_moe_ffn(WeightLoader& l, const HParams& hp, int32_t il, LayerWeights& lw) {
    const int64_t ne = hp.n_expert;
    const int64_t ff = hp.n_ff_exp;
    if (ff <= 0) return error("MoE layer {}: the expert FFN width is not set in the metadata", il);
    RF_ASSIGN_OR_RETURN(lw.ffn_norm, l.require(layer_tensor(il, "ffn_norm.weight"), {hp.n_embd}, WeightKind::kVector));
    RF_ASSIGN_OR_RETURN(lw.moe.gate_inp, l.require(layer_tensor(il, "ffn_gate_inp.weight"), {hp.n_embd, ne}));
    RF_ASSIGN_OR_RETURN(lw.moe.gate_exps, l.require(layer_tensor(il, "ffn_gate_exps.weight"), {hp.n_embd, ff, ne}));
    RF_ASSIGN_OR_RETURN(lw.moe.up_exps, l.require(layer_tensor(il, "ffn_up_exps.weight"), {hp.n_embd, ff, ne}));
    RF_ASSIGN_OR_RETURN(lw.moe.down_exps, l.require(layer_tensor(il, "ffn_down_exps.weight"), {ff, hp.n_embd, ne}));
    return Status::ok();
}

Tensor decoder_forward(ForwardState& s) {
    engine::Backend& b = s.b;
    const int32_t n = s.n_tokens;
    Tensor x = s.a.x.first_rows(n);          // residual stream [n_embd, n]
    Tensor xn = s.a.xn.first_rows(n);        // normalised block input
    Tensor block = s.a.block.first_rows(n);  // block output

    if (s.layer_begin == 0) b.get_rows(s.w.token_embd, x);
    // Each block's input norm comes with the residual add before it (matmul_add_rms_norm), except
    // the stage's first.
    if (s.layer_begin < s.layer_end) {
        b.rms_norm(x, s.w.layers[static_cast<size_t>(s.layer_begin)].attn_norm, s.hp.rms_eps, xn);
    }
    for (int32_t il = s.layer_begin; il < s.layer_end; ++il) {
        const LayerWeights& l = s.w.layers[static_cast<size_t>(il)];
        const Tensor* next_norm = il + 1 < s.layer_end ? &s.w.layers[static_cast<size_t>(il + 1)].attn_norm : nullptr;
        // Attention: x += attn(norm(x)), then xn = norm(x) for the FFN; the stage's KV cache
        // holds its own layers only.
        attention_block(s, l, il - s.layer_begin, x, l.ffn_norm);
        // FFN: x += ffn(xn), dense SwiGLU or routed experts, then the next layer's xn
        if (l.moe.gate_inp.empty()) {
            dense_ffn_block(s, l, x, next_norm);
        } else {
            moe_ffn_block(s, l, block);
            b.add(x, block, x);
            if (next_norm != nullptr) b.rms_norm(x, *next_norm, s.hp.rms_eps, xn);
        }
    }
    return s.layer_end == s.hp.n_layer ? output_block(s) : x;
}

}  // namespace rf::model
