// Conversion driver: config -> metadata keys, checkpoint -> tensor plan -> lazy writer tensors,
// tokenizer files -> tokenizer metadata.
#include "hf/converter.h"

#include <filesystem>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "core/mapped_file.h"
#include "gguf/file_type.h"
#include "gguf/keys.h"
#include "hf/tensor_plan.h"
#include "hf/tokenizer_import.h"
#include "quant/reference.h"

namespace rf::hf {
namespace {

namespace fs = std::filesystem;
namespace keys = gguf::keys;
using gguf::Value;
using quant::GgmlType;

std::optional<gguf::FileType> file_type_of(GgmlType type) {
    switch (type) {
        case GgmlType::kF32: return gguf::FileType::kAllF32;
        case GgmlType::kF16: return gguf::FileType::kMostlyF16;
        case GgmlType::kBF16: return gguf::FileType::kMostlyBF16;
        case GgmlType::kQ8_0: return gguf::FileType::kMostlyQ8_0;
        case GgmlType::kQ4_0: return gguf::FileType::kMostlyQ4_0;
        case GgmlType::kQ4_1: return gguf::FileType::kMostlyQ4_1;
        case GgmlType::kQ5_0: return gguf::FileType::kMostlyQ5_0;
        case GgmlType::kQ5_1: return gguf::FileType::kMostlyQ5_1;
        case GgmlType::kQ2_K: return gguf::FileType::kMostlyQ2_K;
        case GgmlType::kQ3_K: return gguf::FileType::kMostlyQ3_K_S;
        case GgmlType::kQ4_K: return gguf::FileType::kMostlyQ4_K_S;
        case GgmlType::kQ5_K: return gguf::FileType::kMostlyQ5_K_S;
        case GgmlType::kQ6_K: return gguf::FileType::kMostlyQ6_K;
        case GgmlType::kIQ4_NL: return gguf::FileType::kMostlyIQ4_NL;
        case GgmlType::kIQ4_XS: return gguf::FileType::kMostlyIQ4_XS;
        default: return std::nullopt;
    }
}

void set_arch_metadata(gguf::GgufWriter& w, const HfConfig& c) {
    const std::string& a = c.gguf_arch;
    auto key = [&](std::string_view suffix) { return keys::arch_key(a, suffix); };
    w.set(key(keys::kVocabSize), Value::u32(c.n_vocab));
    w.set(key(keys::kContextLength), Value::u32(c.n_ctx));
    w.set(key(keys::kEmbeddingLength), Value::u32(c.n_embd));
    w.set(key(keys::kBlockCount), Value::u32(c.n_layer));
    w.set(key(keys::kFeedForwardLength), Value::u32(c.n_ff));
    w.set(key(keys::kAttentionHeadCount), Value::u32(c.n_head));
    w.set(key(keys::kAttentionHeadCountKv), Value::u32(c.n_head_kv));
    w.set(key(keys::kRopeFreqBase), Value::f32(c.rope_theta));
    w.set(key(keys::kRopeDimensionCount), Value::u32(c.head_dim));
    w.set(key(keys::kAttentionLayerNormRmsEpsilon), Value::f32(c.rms_eps));
    if (c.head_dim_explicit) {
        w.set(key(keys::kAttentionKeyLength), Value::u32(c.head_dim));
        w.set(key(keys::kAttentionValueLength), Value::u32(c.head_dim));
    }
    if (c.is_moe()) {
        w.set(key(keys::kExpertCount), Value::u32(c.n_expert));
        w.set(key(keys::kExpertUsedCount), Value::u32(c.n_expert_used));
        if (c.gguf_arch == "qwen3moe") w.set(key(keys::kExpertFeedForwardLength), Value::u32(c.n_ff_exp));
        w.set(key("expert_weights_norm"), Value::boolean(c.expert_weights_norm));
    }
    if (c.rope_scaling == RopeScaling::kLinear || c.rope_scaling == RopeScaling::kYarn) {
        const bool yarn = c.rope_scaling == RopeScaling::kYarn;
        w.set(key(keys::kRopeScalingType), Value::string(yarn ? "yarn" : "linear"));
        w.set(key(keys::kRopeScalingFactor), Value::f32(c.rope_factor));
        if (yarn) {
            w.set(key(keys::kRopeScalingOrigCtxLen), Value::u32(c.rope_orig_ctx));
            if (c.yarn_attn_factor) w.set(key(keys::kRopeScalingAttnFactor), Value::f32(*c.yarn_attn_factor));
            if (c.yarn_beta_fast) w.set(key("rope.scaling.yarn_beta_fast"), Value::f32(*c.yarn_beta_fast));
            if (c.yarn_beta_slow) w.set(key("rope.scaling.yarn_beta_slow"), Value::f32(*c.yarn_beta_slow));
        }
    }
    // LLaMA-3 scaling travels as the rope_freqs tensor, as llama.cpp writes it.
}

std::string folder_name(const std::string& dir) {
    fs::path p = fs::path(dir).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    return p.filename().string();
}

}  // namespace

bool is_convert_type(GgmlType type) {
    if (!file_type_of(type)) return false;
    return !quant::traits(type).is_quantized || quant::can_quantize(type);
}

Result<HfConversion> HfConversion::prepare(const std::string& dir, const ConvertOptions& options) {
    if (!is_convert_type(options.type)) {
        return error("convert: type '{}' is not supported (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, "
                     "q2_K..q6_K, iq4_nl, iq4_xs)", quant::traits(options.type).name);
    }
    RF_ASSIGN_OR_RETURN(const std::string config_text, read_text_file((fs::path(dir) / "config.json").string()));
    HfConversion conv;
    RF_ASSIGN_OR_RETURN(conv.config_, parse_hf_config(config_text));
    RF_ASSIGN_OR_RETURN(SafetensorsModel model, SafetensorsModel::open_dir(dir));
    conv.model_ = std::make_shared<const SafetensorsModel>(std::move(model));
    RF_ASSIGN_OR_RETURN(std::vector<PlannedTensor> plan, plan_tensors(*conv.model_, conv.config_));
    RF_ASSIGN_OR_RETURN(TokenizerMetadata tok, import_tokenizer(dir, conv.config_));

    const HfConfig& c = conv.config_;
    gguf::GgufWriter& w = conv.writer_;
    w.set(std::string(keys::kGeneralArchitecture), Value::string(c.gguf_arch));
    w.set(std::string(keys::kGeneralType), Value::string("model"));
    w.set(std::string(keys::kGeneralName), Value::string(options.name.empty() ? folder_name(dir) : options.name));
    set_arch_metadata(w, c);
    w.set(std::string(keys::kGeneralFileType), Value::u32(static_cast<uint32_t>(*file_type_of(options.type))));
    w.set(std::string(keys::kGeneralQuantizationVersion), Value::u32(2));
    for (auto& [key, value] : tok.entries) w.set(key, std::move(value));

    size_t fallbacks = 0;
    for (PlannedTensor& t : plan) {
        const GgmlType type = choose_type(t, options.type);
        if (type == GgmlType::kF16 && options.type != GgmlType::kF16 && t.ne.size() > 1 && !t.keep_f32) ++fallbacks;
        auto shared = std::make_shared<const PlannedTensor>(std::move(t));
        std::shared_ptr<const SafetensorsModel> keep_alive = conv.model_;
        RF_RETURN_IF_ERROR(w.add_tensor_lazy(shared->name, type, shared->ne,
                                             [shared, keep_alive, type](std::span<uint8_t> out) {
                                                 produce_tensor(*shared, type, out);
                                             }));
    }
    conv.warnings_ = c.warnings;
    conv.warnings_.insert(conv.warnings_.end(), tok.warnings.begin(), tok.warnings.end());
    if (fallbacks > 0) {
        conv.warnings_.push_back(fmt::format("{} tensors have rows that are not a multiple of the {} block size: stored as f16",
                                             fallbacks, quant::traits(options.type).name));
    }
    conv.tokenizer_summary_ = tok.summary;
    return conv;
}

}  // namespace rf::hf
