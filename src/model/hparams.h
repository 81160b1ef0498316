// Hyper-parameters of a decoder-only transformer, read from GGUF metadata (`{arch}.*` keys).
// Architecture differences are flags here, not subclasses.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "engine/backend.h"
#include "gguf/gguf_file.h"

namespace rf::model {

enum class RopeScaling { kNone, kLinear, kYarn };

struct HParams {
    std::string arch;
    int32_t n_vocab = 0;
    int32_t n_ctx_train = 0;
    int32_t n_embd = 0;
    int32_t n_layer = 0;
    int32_t n_head = 0;
    int32_t n_head_kv = 0;
    int32_t head_dim_k = 0;   // key_length (default n_embd / n_head)
    int32_t head_dim_v = 0;   // value_length (default head_dim_k)
    int32_t n_ff = 0;         // dense FFN width (0 in pure MoE models)
    int32_t n_expert = 0;
    int32_t n_expert_used = 0;
    int32_t n_ff_exp = 0;     // expert FFN width
    bool expert_weights_norm = true;
    float rms_eps = 1e-5f;

    // RoPE, as read; rope_params() turns it into backend parameters.
    engine::RopeType rope_type = engine::RopeType::kNormal;
    int32_t n_rot = 0;
    float rope_freq_base = 10000.0f;
    RopeScaling rope_scaling = RopeScaling::kNone;
    float rope_scale_factor = 1.0f;
    int32_t rope_n_ctx_orig = 0;
    float yarn_ext_factor = -1.0f;  // < 0: 1 for YaRN, 0 otherwise
    float yarn_attn_factor = 1.0f;
    float yarn_beta_fast = 32.0f;
    float yarn_beta_slow = 1.0f;

    engine::RopeParams rope_params() const;  // freq_factors left empty
};

// Reads the common `{arch}.*` keys; `rope_type` is the family's convention.
// Every missing or out-of-range key is an error naming the key.
Result<HParams> read_hparams(const gguf::GgufFile& file, engine::RopeType rope_type);

}  // namespace rf::model
