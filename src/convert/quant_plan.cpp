// llama.cpp's tensor-type mixing rules, restated: which tensors a preset bumps to more bits
// (output, attn_v and ffn_down of selected layers, ...) and how shapes that do not fit a block
// size fall back.
#include "convert/quant_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "gguf/keys.h"
#include "gguf/tensor_names.h"
#include "quant/reference.h"

namespace rf::convert {
namespace {

using gguf::FileType;
using quant::GgmlType;

enum class Category {
    kTokenEmbd,
    kAttnQ,
    kAttnK,
    kAttnV,  // attn_v, fused attn_qkv and attn_kv_b: the most sensitive projections
    kAttnOutput,
    kFfnUp,
    kFfnGate,
    kFfnDown,
    kOutput,
    kOther,
};

bool contains(std::string_view s, std::string_view part) {
    return s.find(part) != s.npos;
}

Category category_of(std::string_view name) {
    if (name == "output.weight") return Category::kOutput;
    if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") {
        return Category::kTokenEmbd;
    }
    if (contains(name, "attn_qkv.weight") || contains(name, "attn_kv_b.weight") ||
        contains(name, "attn_v.weight")) {
        return Category::kAttnV;
    }
    if (contains(name, "attn_k.weight")) return Category::kAttnK;
    if (contains(name, "attn_q.weight")) return Category::kAttnQ;
    if (contains(name, "attn_output.weight")) return Category::kAttnOutput;
    if (contains(name, "ffn_up")) return Category::kFfnUp;
    if (contains(name, "ffn_gate")) return Category::kFfnGate;
    if (contains(name, "ffn_down")) return Category::kFfnDown;
    return Category::kOther;
}

// The layer index N of "blk.N.*", or 0.
int layer_of(std::string_view name) { return std::max(gguf::tensor_layer(name), 0); }

// llama.cpp's "use more bits" layers: the first and last eighth, and every third in between.
bool use_more_bits(int il, int n) {
    return il < n / 8 || il >= 7 * n / 8 || (il - n / 8) % 3 == 2;
}

// The tensor type a preset quantizes to by default.
std::optional<GgmlType> default_type_of(FileType f) {
    switch (f) {
        case FileType::kAllF32:
            return GgmlType::kF32;
        case FileType::kMostlyF16:
            return GgmlType::kF16;
        case FileType::kMostlyBF16:
            return GgmlType::kBF16;
        case FileType::kMostlyQ4_0:
            return GgmlType::kQ4_0;
        case FileType::kMostlyQ4_1:
            return GgmlType::kQ4_1;
        case FileType::kMostlyQ5_0:
            return GgmlType::kQ5_0;
        case FileType::kMostlyQ5_1:
            return GgmlType::kQ5_1;
        case FileType::kMostlyQ8_0:
            return GgmlType::kQ8_0;
        case FileType::kMostlyQ2_K:
            return GgmlType::kQ2_K;
        case FileType::kMostlyQ3_K_S:
        case FileType::kMostlyQ3_K_M:
        case FileType::kMostlyQ3_K_L:
            return GgmlType::kQ3_K;
        case FileType::kMostlyQ4_K_S:
        case FileType::kMostlyQ4_K_M:
            return GgmlType::kQ4_K;
        case FileType::kMostlyQ5_K_S:
        case FileType::kMostlyQ5_K_M:
            return GgmlType::kQ5_K;
        case FileType::kMostlyQ6_K:
            return GgmlType::kQ6_K;
        case FileType::kMostlyIQ4_NL:
            return GgmlType::kIQ4_NL;
        case FileType::kMostlyIQ4_XS:
            return GgmlType::kIQ4_XS;
        case FileType::kMostlyTQ1_0:
            return GgmlType::kTQ1_0;
        case FileType::kMostlyTQ2_0:
            return GgmlType::kTQ2_0;
        default:
            return std::nullopt;
    }
}

// The type llama.cpp falls back to when ne[0] is not a multiple of `type`'s block size.
GgmlType shape_fallback(GgmlType type) {
    switch (type) {
        case GgmlType::kIQ4_XS:
            return GgmlType::kIQ4_NL;
        case GgmlType::kQ2_K:
        case GgmlType::kQ3_K:
        case GgmlType::kTQ1_0:
        case GgmlType::kTQ2_0:
            return GgmlType::kQ4_0;
        case GgmlType::kQ4_K:
            return GgmlType::kQ5_0;
        case GgmlType::kQ5_K:
            return GgmlType::kQ5_1;
        case GgmlType::kQ6_K:
            return GgmlType::kQ8_0;
        default:
            return GgmlType::kF16;  // a 32-element type that does not fit either
    }
}

bool fits(GgmlType type, uint64_t ne0) {
    return ne0 % quant::traits(type).block_size == 0;
}

}  // namespace

bool allows_quantization(std::string_view name, uint32_t n_dims) {
    if (n_dims < 2 || !name.ends_with("weight")) return false;
    constexpr std::string_view kKeep[] = {
        "_norm.weight",
        "ffn_gate_inp.weight",
        "position_embd.weight",
        "token_types.weight",
        "ssm_conv1d",
        "altup",
        "laurel",
        "per_layer_model_proj",
        "attn_rel_b.weight",
        "time_mix_",
        "shortconv.conv.weight",
    };
    for (std::string_view k : kKeep) {
        if (contains(name, k)) return false;
    }
    return true;
}

Result<gguf::FileType> parse_preset(std::string_view name) {
    std::string upper(name);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == "Q4_K") upper = "Q4_K_M";
    if (upper == "Q5_K") upper = "Q5_K_M";
    const std::optional<FileType> f = gguf::parse_file_type(upper);
    if (!f) {
        return error(
            "unknown quantization type '{}' (e.g. Q4_K_M, Q4_K_S, Q5_K_M, Q5_K_S, "
            "Q3_K_M, Q2_K, Q6_K, Q8_0, Q4_0, IQ4_XS, F16)",
            name);
    }
    return *f;
}

Result<ModelFacts> model_facts(const gguf::GgufFile& file) {
    ModelFacts facts;
    facts.arch = file.architecture();
    const auto count = [&](std::string_view suffix, int fallback) -> Result<int> {
        if (facts.arch.empty()) return fallback;
        RF_ASSIGN_OR_RETURN(std::optional<uint64_t> v,
                            file.get_uint_opt(gguf::keys::arch_key(facts.arch, suffix)));
        if (v && *v > 1'000'000) return error("{}.{} = {} is implausible", facts.arch, suffix, *v);
        return v ? static_cast<int>(*v) : fallback;
    };
    RF_ASSIGN_OR_RETURN(facts.n_layer, count(gguf::keys::kBlockCount, 0));
    RF_ASSIGN_OR_RETURN(facts.n_head, count(gguf::keys::kAttentionHeadCount, 1));
    RF_ASSIGN_OR_RETURN(facts.n_head_kv, count(gguf::keys::kAttentionHeadCountKv, facts.n_head));
    RF_ASSIGN_OR_RETURN(facts.n_expert, count(gguf::keys::kExpertCount, 0));
    if (facts.n_head_kv == 0) facts.n_head_kv = facts.n_head;
    facts.tied_output = file.find_tensor("output.weight") == nullptr;
    return facts;
}

Result<QuantPlan> QuantPlan::make(gguf::FileType ftype, bool pure, ModelFacts facts) {
    const std::optional<GgmlType> type = default_type_of(ftype);
    if (!type) {
        return error(
            "quantization type {} is not supported here (the i-quant mixes below 4 bits "
            "need an importance matrix)",
            gguf::file_type_name(ftype));
    }
    if (!quant::can_quantize(*type)) {
        return error("no quantizer for tensor type {}", quant::traits(*type).name);
    }
    return QuantPlan(ftype, pure, std::move(facts), *type);
}

TensorChoice QuantPlan::choose(std::string_view name, const std::array<uint64_t, 4>& ne,
                               uint32_t n_dims, GgmlType current) const {
    if (!allows_quantization(name, n_dims)) return {current, {}};
    GgmlType type = default_type_;
    if (!quant::traits(default_type_).is_quantized) return {type, {}};
    if (!pure_) type = mix(name, ne[0], type);
    if (fits(type, ne[0])) return {type, {}};
    GgmlType fallback = shape_fallback(type);
    if (!fits(fallback, ne[0])) fallback = GgmlType::kF16;
    return {fallback, fmt::format("ne[0] {} is not a multiple of {} for {} -> {}", ne[0],
                                  quant::traits(type).block_size, quant::traits(type).name,
                                  quant::traits(fallback).name)};
}

// attn_v (and fused qkv): the projection llama.cpp protects most.
GgmlType QuantPlan::mix_attn_v(int il, GgmlType type) const {
    const FileType f = ftype_;
    if (f == FileType::kMostlyQ2_K) {
        type = facts_.n_gqa() >= 4 ? GgmlType::kQ4_K : GgmlType::kQ3_K;
    } else if (f == FileType::kMostlyQ3_K_M) {
        type = il < 2 ? GgmlType::kQ5_K : GgmlType::kQ4_K;
    } else if (f == FileType::kMostlyQ3_K_L) {
        type = GgmlType::kQ5_K;
    } else if ((f == FileType::kMostlyIQ4_NL || f == FileType::kMostlyIQ4_XS) &&
               facts_.n_gqa() >= 4) {
        type = GgmlType::kQ5_K;
    } else if ((f == FileType::kMostlyQ4_K_M || f == FileType::kMostlyQ5_K_M) &&
               use_more_bits(il, facts_.n_layer)) {
        type = GgmlType::kQ6_K;
    } else if (f == FileType::kMostlyQ4_K_S && il < 4) {
        type = GgmlType::kQ5_K;
    }
    return facts_.n_expert == 8 ? GgmlType::kQ8_0 : type;
}

GgmlType QuantPlan::mix_ffn_down(int il, GgmlType type) const {
    const FileType f = ftype_;
    const int n = facts_.n_layer;
    const bool falcon = facts_.arch == "falcon";
    if (f == FileType::kMostlyQ2_K) return GgmlType::kQ3_K;
    if (f == FileType::kMostlyQ3_K_M) {
        if (il < n / 16) return GgmlType::kQ5_K;
        return !falcon || use_more_bits(il, n) ? GgmlType::kQ4_K : GgmlType::kQ3_K;
    }
    if (f == FileType::kMostlyQ3_K_L) return falcon ? GgmlType::kQ4_K : GgmlType::kQ5_K;
    if (f == FileType::kMostlyQ4_K_M) {
        if (!falcon) return use_more_bits(il, n) ? GgmlType::kQ6_K : type;
        if (il < n / 16) return GgmlType::kQ6_K;
        return use_more_bits(il, n) ? GgmlType::kQ5_K : GgmlType::kQ4_K;
    }
    if (il < n / 8 && (f == FileType::kMostlyIQ4_NL || f == FileType::kMostlyIQ4_XS)) {
        return GgmlType::kQ5_K;
    }
    if (f == FileType::kMostlyQ5_K_M && use_more_bits(il, n)) return GgmlType::kQ6_K;
    if (f == FileType::kMostlyQ4_K_S && !falcon && il < n / 8) return GgmlType::kQ5_K;
    return type;
}

GgmlType QuantPlan::mix_attn_output(GgmlType type) const {
    const FileType f = ftype_;
    if (facts_.arch == "falcon") return f == FileType::kMostlyQ3_K_L ? GgmlType::kQ4_K : type;
    if (facts_.n_expert == 8) {
        const bool bump = f == FileType::kMostlyQ2_K || f == FileType::kMostlyQ3_K_S ||
                          f == FileType::kMostlyQ3_K_M || f == FileType::kMostlyIQ4_NL ||
                          f == FileType::kMostlyQ4_K_S || f == FileType::kMostlyQ4_K_M ||
                          f == FileType::kMostlyIQ4_XS;
        return bump ? GgmlType::kQ5_K : type;
    }
    if (f == FileType::kMostlyQ2_K) return GgmlType::kQ3_K;
    if (f == FileType::kMostlyQ3_K_M) return GgmlType::kQ4_K;
    if (f == FileType::kMostlyQ3_K_L) return GgmlType::kQ5_K;
    return type;
}

// The preset's bump for one tensor, by category and layer.
GgmlType QuantPlan::mix(std::string_view name, uint64_t ne0, GgmlType type) const {
    const Category cat = category_of(name);
    if (cat == Category::kOutput || (facts_.tied_output && cat == Category::kTokenEmbd)) {
        if (facts_.arch == "falcon" || !fits(type, ne0)) return GgmlType::kQ8_0;
        return type == GgmlType::kQ8_0 ? type : GgmlType::kQ6_K;
    }
    switch (cat) {
        case Category::kTokenEmbd: {
            const bool ternary =
                ftype_ == FileType::kMostlyTQ1_0 || ftype_ == FileType::kMostlyTQ2_0;
            return ternary ? GgmlType::kQ4_K : type;
        }
        case Category::kAttnV:
            return mix_attn_v(layer_of(name), type);
        case Category::kAttnK:
            return facts_.n_expert == 8 ? GgmlType::kQ8_0 : type;
        case Category::kFfnDown:
            return mix_ffn_down(layer_of(name), type);
        case Category::kAttnOutput:
            return mix_attn_output(type);
        default:
            return type;
    }
}

}  // namespace rf::convert
