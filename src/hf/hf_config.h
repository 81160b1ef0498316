// A Hugging Face config.json reduced to what the GGUF conversion needs, for the decoder families
// we convert: LLaMA / Mistral / Mixtral (GGUF arch "llama"), Qwen2, Qwen3 and Qwen3-MoE.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace rf::hf {

enum class RopeScaling { kNone, kLinear, kYarn, kLlama3 };

struct HfConfig {
    std::string hf_architecture;  // "LlamaForCausalLM" ...
    std::string gguf_arch;        // "llama", "qwen2", "qwen3", "qwen3moe"
    // LLaMA-family checkpoints store Q/K rows in the rotate-half layout; GGUF "llama" expects
    // interleaved pairs, so those rows are permuted. Qwen uses NeoX rope: stored as is.
    bool permute_qk = false;
    bool qk_norm = false;   // per-head RMSNorm on Q and K (Qwen3)
    bool qkv_bias = false;  // biases on Q, K, V (Qwen2, or attention_bias)
    bool out_bias = false;  // bias on the attention output projection (attention_bias)

    uint32_t n_vocab = 0;
    uint32_t n_embd = 0;
    uint32_t n_layer = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim = 0;
    bool head_dim_explicit = false;  // config.json gave head_dim (written as key/value_length)
    uint32_t n_ff = 0;
    uint32_t n_ctx = 0;
    float rms_eps = 1e-6f;
    float rope_theta = 10000.0f;

    RopeScaling rope_scaling = RopeScaling::kNone;
    float rope_factor = 1.0f;
    uint32_t rope_orig_ctx = 0;      // yarn / llama3 original context
    float rope_low_freq_factor = 1.0f;   // llama3
    float rope_high_freq_factor = 4.0f;  // llama3
    std::optional<float> yarn_attn_factor;
    std::optional<float> yarn_beta_fast;
    std::optional<float> yarn_beta_slow;

    uint32_t n_expert = 0;
    uint32_t n_expert_used = 0;
    uint32_t n_ff_exp = 0;  // expert FFN width (Mixtral: intermediate_size)
    bool expert_weights_norm = false;  // renormalise the top-k routing weights

    bool tie_embeddings = false;
    std::optional<int64_t> bos_id;
    std::optional<int64_t> eos_id;
    std::vector<std::string> warnings;  // settings the conversion ignores (sliding window ...)

    bool is_moe() const { return n_expert > 0; }
};

// Parses config.json text; an error names the missing or out-of-range key.
Result<HfConfig> parse_hf_config(const std::string& json_text);

// LLaMA-3 rope frequency factors, one per rotated pair: [head_dim / 2], as the "rope_freqs"
// tensor that GGUF readers divide each base frequency by.
std::vector<float> llama3_rope_factors(const HfConfig& config);

}  // namespace rf::hf
