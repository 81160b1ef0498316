// config.json parsing: architecture, dimensions, RoPE (transformers 4 `rope_theta` +
// `rope_scaling`, or transformers 5 `rope_parameters`) and mixture-of-experts settings.
#include "hf/hf_config.h"

#include <cmath>
#include <numbers>

#include <nlohmann/json.hpp>

namespace rf::hf {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxDim = 1u << 24;  // far beyond any real model, small enough for uint32 math

// The value under `key`, or nullptr when absent or null.
const json* find(const json& obj, const char* key) {
    const auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

Result<uint32_t> get_count(const json& obj, const char* key, std::optional<uint32_t> fallback,
                           uint64_t max_value = kMaxDim) {
    const json* v = find(obj, key);
    if (v == nullptr) {
        if (fallback) return *fallback;
        return error("config.json: missing '{}'", key);
    }
    if (!v->is_number_integer() || v->get<int64_t>() < 1 || v->get<uint64_t>() > max_value) {
        return error("config.json: '{}' must be an integer in [1, {}]", key, max_value);
    }
    return static_cast<uint32_t>(v->get<uint64_t>());
}

Result<float> get_float(const json& obj, const char* key, float fallback, const char* where = "config.json") {
    const json* v = find(obj, key);
    if (v == nullptr) return fallback;
    if (!v->is_number() || !std::isfinite(v->get<double>())) return error("{}: '{}' must be a number", where, key);
    return static_cast<float>(v->get<double>());
}

Result<bool> get_bool(const json& obj, const char* key, bool fallback) {
    const json* v = find(obj, key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) return error("config.json: '{}' must be true or false", key);
    return v->get<bool>();
}

// bos/eos ids: an integer, or a list whose first entry is used.
std::optional<int64_t> get_token_id(const json& obj, const char* key) {
    const json* v = find(obj, key);
    if (v != nullptr && v->is_array() && !v->empty()) v = &(*v)[0];
    if (v != nullptr && v->is_number_integer() && v->get<int64_t>() >= 0) return v->get<int64_t>();
    return std::nullopt;
}

Status set_architecture(const json& root, HfConfig& c) {
    const json* archs = find(root, "architectures");
    if (archs == nullptr || !archs->is_array() || archs->empty() || !(*archs)[0].is_string()) {
        return error("config.json: missing 'architectures'");
    }
    c.hf_architecture = (*archs)[0].get<std::string>();
    const std::string& a = c.hf_architecture;
    if (a == "LlamaForCausalLM" || a == "MistralForCausalLM" || a == "MixtralForCausalLM") {
        c.gguf_arch = "llama";
        c.permute_qk = true;
    } else if (a == "Qwen2ForCausalLM") {
        c.gguf_arch = "qwen2";
        c.qkv_bias = true;
    } else if (a == "Qwen3ForCausalLM") {
        c.gguf_arch = "qwen3";
        c.qk_norm = true;
    } else if (a == "Qwen3MoeForCausalLM") {
        c.gguf_arch = "qwen3moe";
        c.qk_norm = true;
    } else {
        return error("config.json: architecture '{}' is not supported (supported: LlamaForCausalLM, "
                     "MistralForCausalLM, MixtralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, "
                     "Qwen3MoeForCausalLM)", a);
    }
    return Status::ok();
}

Status parse_rope(const json& root, HfConfig& c) {
    // transformers 5 keeps theta and scaling together in rope_parameters; 4.x splits them.
    const json* params = find(root, "rope_parameters");
    const json* scaling = params != nullptr ? params : find(root, "rope_scaling");
    if (scaling != nullptr && !scaling->is_object()) return error("config.json: rope settings must be an object");
    RF_ASSIGN_OR_RETURN(c.rope_theta, get_float(root, "rope_theta", 10000.0f));
    if (params != nullptr) {
        RF_ASSIGN_OR_RETURN(c.rope_theta, get_float(*params, "rope_theta", c.rope_theta));
    }
    if (!(c.rope_theta > 1.0f)) return error("config.json: rope_theta {} must be > 1", c.rope_theta);
    RF_ASSIGN_OR_RETURN(float partial, get_float(root, "partial_rotary_factor", 1.0f));
    if (scaling != nullptr) {
        RF_ASSIGN_OR_RETURN(partial, get_float(*scaling, "partial_rotary_factor", partial));
    }
    if (partial != 1.0f) return error("config.json: partial_rotary_factor {} is not supported", partial);
    if (scaling == nullptr) return Status::ok();

    std::string type = "default";
    for (const char* key : {"rope_type", "type"}) {
        if (const json* t = find(*scaling, key); t != nullptr && t->is_string()) type = t->get<std::string>();
    }
    const char* where = "config.json rope settings";
    RF_ASSIGN_OR_RETURN(c.rope_factor, get_float(*scaling, "factor", 1.0f, where));
    if (type == "default") return Status::ok();
    if (type == "dynamic") {
        c.warnings.push_back("dynamic NTK rope scaling is ignored (as llama.cpp does)");
        return Status::ok();
    }
    if (!(c.rope_factor > 0.0f)) return error("{}: factor must be > 0", where);
    RF_ASSIGN_OR_RETURN(c.rope_orig_ctx, get_count(*scaling, "original_max_position_embeddings", c.n_ctx));
    if (type == "linear") {
        c.rope_scaling = RopeScaling::kLinear;
    } else if (type == "yarn") {
        c.rope_scaling = RopeScaling::kYarn;
        for (auto [key, out] : {std::pair{"attention_factor", &c.yarn_attn_factor},
                                std::pair{"beta_fast", &c.yarn_beta_fast}, std::pair{"beta_slow", &c.yarn_beta_slow}}) {
            if (find(*scaling, key) != nullptr) {
                RF_ASSIGN_OR_RETURN(float v, get_float(*scaling, key, 0.0f, where));
                *out = v;
            }
        }
    } else if (type == "llama3") {
        c.rope_scaling = RopeScaling::kLlama3;
        RF_ASSIGN_OR_RETURN(c.rope_low_freq_factor, get_float(*scaling, "low_freq_factor", 1.0f, where));
        RF_ASSIGN_OR_RETURN(c.rope_high_freq_factor, get_float(*scaling, "high_freq_factor", 4.0f, where));
        if (!(c.rope_high_freq_factor > c.rope_low_freq_factor) || !(c.rope_low_freq_factor > 0.0f)) {
            return error("{}: llama3 needs 0 < low_freq_factor < high_freq_factor", where);
        }
    } else {
        return error("{}: rope type '{}' is not supported (default, linear, yarn, llama3)", where, type);
    }
    return Status::ok();
}

Status parse_moe(const json& root, HfConfig& c) {
    if (c.hf_architecture == "MixtralForCausalLM") {
        RF_ASSIGN_OR_RETURN(c.n_expert, get_count(root, "num_local_experts", std::nullopt, 1024));
        c.n_ff_exp = c.n_ff;
        c.expert_weights_norm = true;  // softmax over the chosen experts
    } else if (c.hf_architecture == "Qwen3MoeForCausalLM") {
        // transformers 5 writes num_local_experts, 4.x num_experts.
        const char* key = find(root, "num_experts") != nullptr ? "num_experts" : "num_local_experts";
        RF_ASSIGN_OR_RETURN(c.n_expert, get_count(root, key, std::nullopt, 1024));
        RF_ASSIGN_OR_RETURN(c.n_ff_exp, get_count(root, "moe_intermediate_size", std::nullopt));
        RF_ASSIGN_OR_RETURN(c.expert_weights_norm, get_bool(root, "norm_topk_prob", false));
        RF_ASSIGN_OR_RETURN(uint32_t step, get_count(root, "decoder_sparse_step", 1u));
        const json* dense = find(root, "mlp_only_layers");
        if (step != 1 || (dense != nullptr && (!dense->is_array() || !dense->empty()))) {
            return error("config.json: Qwen3-MoE with dense layers (decoder_sparse_step / "
                         "mlp_only_layers) is not supported");
        }
    } else {
        return Status::ok();
    }
    RF_ASSIGN_OR_RETURN(c.n_expert_used, get_count(root, "num_experts_per_tok", std::nullopt, c.n_expert));
    return Status::ok();
}

}  // namespace

Result<HfConfig> parse_hf_config(const std::string& json_text) {
    const json root = json::parse(json_text, nullptr, false);
    if (root.is_discarded() || !root.is_object()) return error("config.json: not a JSON object");
    HfConfig c;
    RF_RETURN_IF_ERROR(set_architecture(root, c));
    if (const json* act = find(root, "hidden_act"); act != nullptr && (!act->is_string() || *act != "silu")) {
        return error("config.json: hidden_act must be \"silu\"");
    }
    RF_ASSIGN_OR_RETURN(c.n_vocab, get_count(root, "vocab_size", std::nullopt));
    RF_ASSIGN_OR_RETURN(c.n_embd, get_count(root, "hidden_size", std::nullopt));
    RF_ASSIGN_OR_RETURN(c.n_layer, get_count(root, "num_hidden_layers", std::nullopt, 4096));
    RF_ASSIGN_OR_RETURN(c.n_head, get_count(root, "num_attention_heads", std::nullopt, 4096));
    RF_ASSIGN_OR_RETURN(c.n_head_kv, get_count(root, "num_key_value_heads", c.n_head, 4096));
    if (c.n_head % c.n_head_kv != 0) {
        return error("config.json: num_key_value_heads {} does not divide num_attention_heads {}", c.n_head_kv, c.n_head);
    }
    c.head_dim_explicit = find(root, "head_dim") != nullptr;
    if (!c.head_dim_explicit && c.n_embd % c.n_head != 0) {
        return error("config.json: hidden_size {} is not a multiple of num_attention_heads {}", c.n_embd, c.n_head);
    }
    RF_ASSIGN_OR_RETURN(c.head_dim, get_count(root, "head_dim", c.n_embd / c.n_head));
    if (c.head_dim % 2 != 0) return error("config.json: head_dim {} must be even for RoPE", c.head_dim);
    RF_ASSIGN_OR_RETURN(c.n_ff, get_count(root, "intermediate_size", std::nullopt));
    RF_ASSIGN_OR_RETURN(c.n_ctx, get_count(root, "max_position_embeddings", 4096u, 1u << 30));
    RF_ASSIGN_OR_RETURN(c.rms_eps, get_float(root, "rms_norm_eps", 1e-6f));
    if (!(c.rms_eps > 0.0f && c.rms_eps < 1.0f)) return error("config.json: rms_norm_eps must be in (0, 1)");
    RF_ASSIGN_OR_RETURN(c.tie_embeddings, get_bool(root, "tie_word_embeddings", false));
    RF_ASSIGN_OR_RETURN(const bool attention_bias, get_bool(root, "attention_bias", false));
    c.qkv_bias = c.qkv_bias || attention_bias;
    c.out_bias = attention_bias;
    if (const json* mlp_bias = find(root, "mlp_bias"); mlp_bias != nullptr && *mlp_bias == true) {
        return error("config.json: mlp_bias is not supported");
    }
    RF_RETURN_IF_ERROR(parse_rope(root, c));
    RF_RETURN_IF_ERROR(parse_moe(root, c));
    c.bos_id = get_token_id(root, "bos_token_id");
    c.eos_id = get_token_id(root, "eos_token_id");
    const json* window = find(root, "sliding_window");
    const json* use_window = find(root, "use_sliding_window");
    if (window != nullptr && window->is_number_integer() && (use_window == nullptr || *use_window == true) &&
        window->get<int64_t>() < static_cast<int64_t>(c.n_ctx)) {
        c.warnings.push_back(fmt::format("sliding_window {} is ignored: attention spans the whole context",
                                         window->get<int64_t>()));
    }
    return c;
}

std::vector<float> llama3_rope_factors(const HfConfig& c) {
    // Wavelengths shorter than orig_ctx / high_freq_factor keep their frequency, longer than
    // orig_ctx / low_freq_factor are slowed by `factor`, and the band between is interpolated.
    const double orig = static_cast<double>(c.rope_orig_ctx);
    const double low_wavelen = orig / static_cast<double>(c.rope_low_freq_factor);
    const double high_wavelen = orig / static_cast<double>(c.rope_high_freq_factor);
    const double factor = static_cast<double>(c.rope_factor);
    std::vector<float> factors;
    for (uint32_t i = 0; i < c.head_dim; i += 2) {
        const double freq = std::pow(static_cast<double>(c.rope_theta), -static_cast<double>(i) / c.head_dim);
        const double wavelen = 2.0 * std::numbers::pi / freq;
        double f = 1.0;
        if (wavelen > low_wavelen) {
            f = factor;
        } else if (wavelen >= high_wavelen) {
            const double smooth = (orig / wavelen - static_cast<double>(c.rope_low_freq_factor)) /
                                  static_cast<double>(c.rope_high_freq_factor - c.rope_low_freq_factor);
            f = 1.0 / ((1.0 - smooth) / factor + smooth);
        }
        factors.push_back(static_cast<float>(f));
    }
    return factors;
}

}  // namespace rf::hf
