// Shared building blocks of the decoder forward passes: attention, dense and MoE FFN, LM head.
// Each family file (llama.cpp, qwen2.cpp ...) strings these together; optional tensors
// (biases, Q/K norms) are applied when present.
#pragma once

#include <cstdint>

#include "engine/backend.h"
#include "engine/model_api.h"
#include "model/hparams.h"
#include "model/weights.h"

namespace rf::model {

// Scratch activations of one Context, sized for T = max_tokens rows (views cut to n_tokens).
struct Activations : engine::Workspace {
    Tensor x;       // [n_embd, T] residual stream
    Tensor xn;      // [n_embd, T] normalised input of a block
    Tensor q;       // [n_head * head_dim_k, T]
    Tensor k;       // [n_head_kv * head_dim_k, T]
    Tensor v;       // [n_head_kv * head_dim_v, T]
    Tensor attn;    // [n_head * head_dim_v, T]
    Tensor block;   // [n_embd, T] output of an attention or FFN block
    Tensor gate;    // [n_ff, T]
    Tensor up;      // [n_ff, T]
    Tensor out_x;   // [n_embd, n_out_max] rows that need logits
    Tensor out_xn;  // [n_embd, n_out_max]
    Tensor logits;  // [n_vocab, n_out_max]
};

// Everything one forward step needs, passed to the helpers.
struct ForwardState {
    engine::Backend& b;
    const HParams& hp;
    const Weights& w;
    Activations& a;
    engine::RopeParams rope;
    engine::AttentionParams attn;
    int32_t n_tokens = 0;
    int32_t n_outputs = 0;
    // The layers of this backend's stage (placement.h): the first stage also embeds the tokens,
    // the last one returns logits; the others return the residual stream x.
    int32_t layer_begin = 0;
    int32_t layer_end = 0;
};

// x [n_embd, n] += attention(xn): Q/K/V projections (+bias, +per-head norm), RoPE, KV store,
// causal attention over the paged cache, output projection added onto the residual stream; then
// xn = rms_norm(x) * next_norm, the next block's input. `kv_layer` indexes the layer in the stage
// backend's KV cache.
void attention_block(ForwardState& s, const LayerWeights& l, int32_t kv_layer, Tensor& x, const Tensor& next_norm);
// x += down(silu(gate(xn)) * up(xn)), the SwiGLU FFN added onto the residual stream; then, given
// next_norm, xn = rms_norm(x) * *next_norm.
void dense_ffn_block(ForwardState& s, const LayerWeights& l, Tensor& x, const Tensor* next_norm);
// xn -> out: top-k routed SwiGLU experts.
void moe_ffn_block(ForwardState& s, const LayerWeights& l, Tensor& out);
// x [n_embd, n] -> logits [n_vocab, n_outputs] of the rows the batch asks for.
Tensor output_block(ForwardState& s);

// Allocates the scratch for steps of up to max_tokens tokens and max_outputs logits rows.
void alloc_activations(engine::Backend& b, const HParams& hp, int32_t max_tokens,
                       int32_t max_outputs, Activations& a);

}  // namespace rf::model
