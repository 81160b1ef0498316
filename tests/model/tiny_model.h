// Tiny random-weight transformer models for tests: a GGUF image written with GgufWriter and a
// plain float64 reference forward pass over the very same weight values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "quant/types.h"

namespace rf::testing {

struct TinyConfig {
    std::string arch = "llama";  // llama | qwen2 | qwen3 | qwen3moe
    int32_t n_vocab = 67;
    int32_t n_embd = 64;
    int32_t n_layer = 2;
    int32_t n_head = 4;
    int32_t n_head_kv = 2;
    int32_t head_dim = 16;       // written as key_length/value_length when != n_embd / n_head
    int32_t n_ff = 96;
    int32_t n_expert = 0;        // > 0: every FFN is MoE (ffn_*_exps)
    int32_t n_expert_used = 0;
    int32_t n_ff_exp = 32;
    bool qkv_bias = false;
    bool qk_norm = false;
    bool tied_embeddings = false;
    bool rope_freqs = false;     // LLaMA-3 style frequency factors tensor
    std::string rope_scaling;    // "", "linear", "yarn"
    float rope_factor = 1.0f;
    int32_t rope_n_ctx_orig = 32;
    float rope_base = 10000.0f;
    int32_t n_rot = 0;           // 0 = head_dim
    float rms_eps = 1e-5f;
    quant::GgmlType weight_type = quant::GgmlType::kF32;  // of 2-D weights (quantizable types too)
    uint32_t seed = 1;
};

struct TinyModel {
    TinyConfig cfg;
    std::map<std::string, std::vector<float>> weights;  // exact values the file holds
    std::vector<uint8_t> gguf;
};

TinyModel make_tiny_model(const TinyConfig& cfg);

// Logits [n_tokens][n_vocab] of one sequence fed from position 0, computed in float64.
std::vector<std::vector<double>> reference_logits(const TinyModel& m,
                                                  const std::vector<int32_t>& tokens);

}  // namespace rf::testing
