// `qwen2`: Qwen2 / Qwen2.5 — LLaMA-like with Q/K/V projection biases and NeoX RoPE.
#include "model/arch.h"

namespace rf::model {
namespace {

Status bind_qwen2(WeightLoader& l, const HParams& hp, Weights& w) {
    RF_RETURN_IF_ERROR(bind_embeddings(l, hp, w));
    w.layers.resize(static_cast<size_t>(hp.n_layer));
    for (int32_t il = 0; il < hp.n_layer; ++il) {
        LayerWeights& lw = w.layers[static_cast<size_t>(il)];
        RF_RETURN_IF_ERROR(bind_attention(l, hp, il, /*qkv_bias=*/true, /*qk_norm=*/false, lw));
        RF_RETURN_IF_ERROR(bind_dense_ffn(l, hp, il, lw));
    }
    return Status::ok();
}

}  // namespace

const ArchSpec kQwen2Arch = {"qwen2", engine::RopeType::kNeox, true, false, bind_qwen2,
                             decoder_forward};

}  // namespace rf::model
