// `qwen3moe`: Qwen3 MoE — Qwen3 attention (per-head Q/K norm, NeoX RoPE) with every FFN a
// top-k routed set of SwiGLU experts (softmax router, top-k weights renormalised).
#include "model/arch.h"

namespace rf::model {
namespace {

Status bind_qwen3moe(WeightLoader& l, const HParams& hp, Weights& w) {
    if (hp.n_expert == 0) return error("metadata key 'qwen3moe.expert_count' is missing or 0");
    RF_RETURN_IF_ERROR(bind_embeddings(l, hp, w));
    w.layers.resize(static_cast<size_t>(hp.n_layer));
    for (int32_t il = 0; il < hp.n_layer; ++il) {
        LayerWeights& lw = w.layers[static_cast<size_t>(il)];
        RF_RETURN_IF_ERROR(bind_attention(l, hp, il, /*qkv_bias=*/false, /*qk_norm=*/true, lw));
        RF_RETURN_IF_ERROR(bind_moe_ffn(l, hp, il, lw));
    }
    return Status::ok();
}

}  // namespace

const ArchSpec kQwen3MoeArch = {"qwen3moe", engine::RopeType::kNeox, false, true, bind_qwen3moe,
                                decoder_forward};

}  // namespace rf::model
