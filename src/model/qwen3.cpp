// `qwen3`: Qwen3 dense — no QKV biases, per-head RMSNorm of Q and K before NeoX RoPE,
// explicit head dimension (key_length may differ from n_embd / n_head).
#include "model/arch.h"

namespace rf::model {
namespace {

Status bind_qwen3(WeightLoader& l, const HParams& hp, Weights& w) {
    RF_RETURN_IF_ERROR(bind_embeddings(l, hp, w));
    w.layers.resize(static_cast<size_t>(hp.n_layer));
    for (int32_t il = 0; il < hp.n_layer; ++il) {
        LayerWeights& lw = w.layers[static_cast<size_t>(il)];
        RF_RETURN_IF_ERROR(bind_attention(l, hp, il, /*qkv_bias=*/false, /*qk_norm=*/true, lw));
        RF_RETURN_IF_ERROR(bind_dense_ffn(l, hp, il, lw));
    }
    return Status::ok();
}

}  // namespace

const ArchSpec kQwen3Arch = {"qwen3", engine::RopeType::kNeox, false, true, bind_qwen3,
                             decoder_forward};

}  // namespace rf::model
