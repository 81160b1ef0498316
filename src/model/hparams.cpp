// Reading transformer hyper-parameters from GGUF metadata, with range checks naming each key.
#include "model/hparams.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace rf::model {
namespace {

// A positive 32-bit count under `key`; `fallback` (if >= 0) when the key is absent.
Result<int32_t> read_count(const gguf::GgufFile& f, const std::string& key, int64_t fallback,
                           int64_t min_value = 1) {
    RF_ASSIGN_OR_RETURN(std::optional<uint64_t> v, f.get_uint_opt(key));
    if (!v) {
        if (fallback < 0) return error("missing metadata key '{}'", key);
        return static_cast<int32_t>(fallback);
    }
    if (*v < static_cast<uint64_t>(min_value) || *v > (uint64_t{1} << 24)) {
        return error("metadata key '{}' = {} is out of range [{}, {}]", key, *v, min_value,
                     uint64_t{1} << 24);
    }
    return static_cast<int32_t>(*v);
}

Result<float> read_float(const gguf::GgufFile& f, const std::string& key, float fallback) {
    RF_ASSIGN_OR_RETURN(std::optional<double> v, f.get_float_opt(key));
    if (!v) return fallback;
    if (!std::isfinite(*v) || std::fabs(*v) > 1e30) {
        return error("metadata key '{}' = {} is not a usable number", key, *v);
    }
    return static_cast<float>(*v);
}

Status read_rope(const gguf::GgufFile& f, const std::string& a, HParams& hp) {
    RF_ASSIGN_OR_RETURN(hp.n_rot, read_count(f, a + ".rope.dimension_count", hp.head_dim_k));
    if (hp.n_rot > hp.head_dim_k || hp.n_rot % 2 != 0) {
        return error("metadata key '{}.rope.dimension_count' = {} must be even and <= head "
                     "dimension {}", a, hp.n_rot, hp.head_dim_k);
    }
    RF_ASSIGN_OR_RETURN(hp.rope_freq_base, read_float(f, a + ".rope.freq_base", 10000.0f));
    if (hp.rope_freq_base <= 1.0f) {
        return error("metadata key '{}.rope.freq_base' = {} must be > 1", a, hp.rope_freq_base);
    }
    RF_ASSIGN_OR_RETURN(std::optional<std::string> type, f.get_string_opt(a + ".rope.scaling.type"));
    RF_ASSIGN_OR_RETURN(float linear, read_float(f, a + ".rope.scale_linear", 0.0f));
    RF_ASSIGN_OR_RETURN(float factor, read_float(f, a + ".rope.scaling.factor", 0.0f));
    if (factor == 0.0f) factor = linear;
    if (type) {
        if (*type == "none") hp.rope_scaling = RopeScaling::kNone;
        else if (*type == "linear") hp.rope_scaling = RopeScaling::kLinear;
        else if (*type == "yarn") hp.rope_scaling = RopeScaling::kYarn;
        else return error("metadata key '{}.rope.scaling.type': unsupported value '{}'", a, *type);
    } else if (factor != 0.0f && factor != 1.0f) {
        hp.rope_scaling = RopeScaling::kLinear;
    }
    if (hp.rope_scaling != RopeScaling::kNone) {
        if (factor == 0.0f) factor = 1.0f;
        if (factor < 1e-3f || factor > 1e4f) {
            return error("metadata key '{}.rope.scaling.factor' = {} is out of range", a, factor);
        }
        hp.rope_scale_factor = factor;
    }
    RF_ASSIGN_OR_RETURN(hp.rope_n_ctx_orig,
                        read_count(f, a + ".rope.scaling.original_context_length", hp.n_ctx_train));
    RF_ASSIGN_OR_RETURN(hp.yarn_attn_factor, read_float(f, a + ".rope.scaling.attn_factor", 1.0f));
    RF_ASSIGN_OR_RETURN(hp.yarn_ext_factor, read_float(f, a + ".rope.scaling.yarn_ext_factor", -1.0f));
    RF_ASSIGN_OR_RETURN(hp.yarn_beta_fast, read_float(f, a + ".rope.scaling.yarn_beta_fast", 32.0f));
    RF_ASSIGN_OR_RETURN(hp.yarn_beta_slow, read_float(f, a + ".rope.scaling.yarn_beta_slow", 1.0f));
    return Status::ok();
}

}  // namespace

engine::RopeParams HParams::rope_params() const {
    engine::RopeParams p;
    p.type = rope_type;
    p.n_rot = n_rot;
    p.freq_base = rope_freq_base;
    p.freq_scale = rope_scaling == RopeScaling::kNone ? 1.0f : 1.0f / rope_scale_factor;
    if (rope_scaling == RopeScaling::kYarn) {
        p.ext_factor = yarn_ext_factor < 0.0f ? 1.0f : yarn_ext_factor;
    } else {
        p.ext_factor = 0.0f;
    }
    p.attn_factor = yarn_attn_factor;
    p.beta_fast = yarn_beta_fast;
    p.beta_slow = yarn_beta_slow;
    p.n_ctx_orig = rope_n_ctx_orig;
    return p;
}

Result<HParams> read_hparams(const gguf::GgufFile& f, engine::RopeType rope_type) {
    HParams hp;
    hp.arch = f.architecture();
    hp.rope_type = rope_type;
    const std::string a = hp.arch;
    RF_ASSIGN_OR_RETURN(hp.n_ctx_train, read_count(f, a + ".context_length", 4096));
    RF_ASSIGN_OR_RETURN(hp.n_embd, read_count(f, a + ".embedding_length", -1));
    RF_ASSIGN_OR_RETURN(hp.n_layer, read_count(f, a + ".block_count", -1));
    RF_ASSIGN_OR_RETURN(hp.n_head, read_count(f, a + ".attention.head_count", -1));
    RF_ASSIGN_OR_RETURN(hp.n_head_kv, read_count(f, a + ".attention.head_count_kv", hp.n_head));
    if (hp.n_head % hp.n_head_kv != 0) {
        return error("metadata key '{}.attention.head_count_kv' = {} does not divide head_count {}",
                     a, hp.n_head_kv, hp.n_head);
    }
    const int64_t default_head_dim = hp.n_embd % hp.n_head == 0 ? hp.n_embd / hp.n_head : -1;
    RF_ASSIGN_OR_RETURN(hp.head_dim_k, read_count(f, a + ".attention.key_length", default_head_dim));
    RF_ASSIGN_OR_RETURN(hp.head_dim_v, read_count(f, a + ".attention.value_length", hp.head_dim_k));
    RF_ASSIGN_OR_RETURN(hp.n_expert, read_count(f, a + ".expert_count", 0, 0));
    RF_ASSIGN_OR_RETURN(hp.n_expert_used, read_count(f, a + ".expert_used_count", 0, 0));
    RF_ASSIGN_OR_RETURN(hp.n_ff, read_count(f, a + ".feed_forward_length", hp.n_expert > 0 ? 0 : -1, 0));
    RF_ASSIGN_OR_RETURN(hp.n_ff_exp, read_count(f, a + ".expert_feed_forward_length", hp.n_ff, 0));
    if (hp.n_expert > 0 && (hp.n_expert_used < 1 || hp.n_expert_used > hp.n_expert)) {
        return error("metadata key '{}.expert_used_count' = {} must be in [1, expert_count {}]", a,
                     hp.n_expert_used, hp.n_expert);
    }
    RF_ASSIGN_OR_RETURN(std::optional<bool> norm, f.get_bool_opt(a + ".expert_weights_norm"));
    if (norm) hp.expert_weights_norm = *norm;
    RF_ASSIGN_OR_RETURN(hp.rms_eps, read_float(f, a + ".attention.layer_norm_rms_epsilon", -1.0f));
    if (!(hp.rms_eps > 0.0f && hp.rms_eps < 1.0f)) {
        return error("metadata key '{}.attention.layer_norm_rms_epsilon' is missing or out of "
                     "range (0, 1)", a);
    }
    RF_RETURN_IF_ERROR(read_rope(f, a, hp));
    return hp;
}

}  // namespace rf::model
