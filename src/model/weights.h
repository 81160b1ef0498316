// The weights of a decoder-only transformer as backend tensors; shapes are GGUF (ne0, ne1[, ne2]).
// Optional tensors are empty() when the architecture or file does not have them.
#pragma once

#include <vector>

#include "engine/backend.h"
#include "engine/tensor.h"

namespace rf::model {

using engine::Tensor;

struct LayerWeights {
    Tensor attn_norm;  // (n_embd)
    Tensor wq;         // (n_embd, n_head * head_dim_k)
    Tensor wk;         // (n_embd, n_head_kv * head_dim_k)
    Tensor wv;         // (n_embd, n_head_kv * head_dim_v)
    Tensor wo;         // (n_head * head_dim_v, n_embd)
    Tensor bq, bk, bv; // (n_head * head_dim_k) ... optional QKV biases (qwen2)
    Tensor q_norm;     // (head_dim_k) optional per-head RMSNorm (qwen3)
    Tensor k_norm;     // (head_dim_k)
    Tensor ffn_norm;   // (n_embd)
    Tensor ffn_gate;   // (n_embd, n_ff)   dense FFN
    Tensor ffn_up;     // (n_embd, n_ff)
    Tensor ffn_down;   // (n_ff, n_embd)
    engine::MoeWeights moe;  // router + experts when n_expert > 0
};

struct Weights {
    Tensor token_embd;   // (n_embd, n_vocab)
    Tensor output_norm;  // (n_embd)
    Tensor output;       // (n_embd, n_vocab); token_embd's data when tied (a copy on the last
                         // stage's backend when that differs from the first's)
    std::vector<Tensor> rope_freqs;  // per placement stage: (n_rot / 2) optional LLaMA-3
                                     // frequency factors, or empty
    bool tied_embeddings = false;
    std::vector<LayerWeights> layers;
};

}  // namespace rf::model
