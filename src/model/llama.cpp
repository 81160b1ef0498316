// `llama`: LLaMA 1/2/3, Mistral, Yi, and Mixtral-style MoE (ffn_*_exps).
// Normal (interleaved-pair) RoPE: the GGUF converter permutes Q/K rows for it; LLaMA-3 files
// may carry `rope_freqs.weight`.
#include "model/arch.h"

namespace rf::model {
namespace {

Status bind_llama(WeightLoader& l, const HParams& hp, Weights& w) {
    RF_RETURN_IF_ERROR(bind_embeddings(l, hp, w));
    w.layers.resize(static_cast<size_t>(hp.n_layer));
    for (int32_t il = 0; il < hp.n_layer; ++il) {
        LayerWeights& lw = w.layers[static_cast<size_t>(il)];
        RF_RETURN_IF_ERROR(bind_attention(l, hp, il, /*qkv_bias=*/false, /*qk_norm=*/false, lw));
        if (hp.n_expert > 0) {
            if (l.has(layer_tensor(il, "ffn_gate.0.weight"))) {
                return error("tensor '{}': per-expert MoE tensors of old conversions are not "
                             "supported (expected ffn_gate_exps)", layer_tensor(il, "ffn_gate.0.weight"));
            }
            RF_RETURN_IF_ERROR(bind_moe_ffn(l, hp, il, lw));
        } else {
            RF_RETURN_IF_ERROR(bind_dense_ffn(l, hp, il, lw));
        }
    }
    return Status::ok();
}

}  // namespace

const ArchSpec kLlamaArch = {"llama", engine::RopeType::kNormal, false, false, bind_llama,
                             decoder_forward};

}  // namespace rf::model
