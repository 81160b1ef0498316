// The architecture registry: each supported `general.architecture` names its RoPE convention,
// how its tensors bind, and its forward pass. One small file per family defines its entry.
#pragma once

#include <string_view>

#include "core/status.h"
#include "model/hparams.h"
#include "model/layers.h"
#include "model/weight_loader.h"
#include "model/weights.h"

namespace rf::model {

struct ArchSpec {
    std::string_view name;            // general.architecture
    engine::RopeType rope_type;       // GGUF llama permutes Q/K for normal RoPE; Qwen uses NeoX
    bool qkv_bias;                    // Q/K/V projections carry biases
    bool qk_norm;                     // per-head RMSNorm of Q and K before RoPE
    Status (*bind)(WeightLoader& loader, const HParams& hp, Weights& w);
    Tensor (*forward)(ForwardState& s);
};

// The registered architecture called `name`, or nullptr.
const ArchSpec* find_arch(std::string_view name);
// "llama, qwen2, qwen3, qwen3moe" for error messages.
std::string supported_archs();

// Binding helpers shared by the family files.
Status bind_embeddings(WeightLoader& l, const HParams& hp, Weights& w);
Status bind_attention(WeightLoader& l, const HParams& hp, int32_t il, bool qkv_bias,
                      bool qk_norm, LayerWeights& lw);
Status bind_dense_ffn(WeightLoader& l, const HParams& hp, int32_t il, LayerWeights& lw);
Status bind_moe_ffn(WeightLoader& l, const HParams& hp, int32_t il, LayerWeights& lw);

// The decoder loop every supported family shares: pre-norm attention and FFN (dense or MoE)
// blocks with residual adds, then the LM head on the requested rows.
Tensor decoder_forward(ForwardState& s);

extern const ArchSpec kLlamaArch;
extern const ArchSpec kQwen2Arch;
extern const ArchSpec kQwen3Arch;
extern const ArchSpec kQwen3MoeArch;

}  // namespace rf::model
