// Binding GGUF tensors to backend tensors with exact shape and type checks.
#include "model/weight_loader.h"

#include <fmt/format.h>

namespace rf::model {
namespace {

bool is_matmul_type(quant::GgmlType t) {
    using quant::GgmlType;
    switch (t) {
        case GgmlType::kI8:
        case GgmlType::kI16:
        case GgmlType::kI32:
        case GgmlType::kI64:
        case GgmlType::kF64:
        case GgmlType::kQ8_1:
        case GgmlType::kQ8_K:
            return false;
        default:
            return true;
    }
}

std::string shape_of(std::initializer_list<int64_t> ne) {
    std::string s = "[";
    for (int64_t d : ne) s += (s.size() > 1 ? ", " : "") + std::to_string(d);
    return s + "]";
}

}  // namespace

std::string layer_tensor(int32_t il, const char* suffix) { return fmt::format("blk.{}.{}", il, suffix); }

Result<engine::Tensor> WeightLoader::require(const std::string& name, std::initializer_list<int64_t> ne,
                                             WeightKind kind, engine::Backend* on) {
    const gguf::TensorInfo* info = file_.find_tensor(name);
    if (info == nullptr) return error("missing tensor '{}' (expected shape {})", name, shape_of(ne));
    return bind(*info, ne, kind, on);
}

Result<engine::Tensor> WeightLoader::optional(const std::string& name, std::initializer_list<int64_t> ne,
                                              WeightKind kind, engine::Backend* on) {
    const gguf::TensorInfo* info = file_.find_tensor(name);
    if (info == nullptr) return engine::Tensor{};
    return bind(*info, ne, kind, on);
}

Result<engine::Tensor> WeightLoader::bind(const gguf::TensorInfo& info, std::initializer_list<int64_t> ne,
                                          WeightKind kind, engine::Backend* on) {
    // Trailing dimensions of 1 may be omitted in the file.
    bool same = info.n_dims <= 3 && ne.size() <= 3;
    size_t d = 0;
    for (int64_t want : ne) same = same && static_cast<int64_t>(info.ne[d++]) == want;
    for (; d < gguf::kMaxDims; ++d) same = same && info.ne[d] == 1;
    if (!same) {
        return error("tensor '{}': shape {} does not match the expected {}", info.name,
                     info.shape_string(), shape_of(ne));
    }
    const auto& traits = quant::traits(info.type);
    if (kind == WeightKind::kVector && info.type != quant::GgmlType::kF32) {
        return error("tensor '{}': type {} is not supported here (norm and bias weights must be "
                     "f32)", info.name, traits.name);
    }
    if (kind != WeightKind::kVector && !is_matmul_type(info.type)) {
        return error("tensor '{}': type {} is not supported for weights", info.name, traits.name);
    }
    if (info.ne[0] % traits.block_size != 0) {
        return error("tensor '{}': row of {} elements is not a multiple of the {} block size {}",
                     info.name, info.ne[0], traits.name, traits.block_size);
    }
    engine::WeightSource src;
    src.type = info.type;
    src.ne = {static_cast<int64_t>(info.ne[0]), static_cast<int64_t>(info.ne[1]),
              static_cast<int64_t>(info.ne[2])};
    src.bytes = info.data;
    src.use = kind == WeightKind::kVector      ? engine::WeightUse::kVector
              : kind == WeightKind::kEmbedding ? engine::WeightUse::kEmbedding
                                               : engine::WeightUse::kMatmul;
    engine::Backend& backend = on != nullptr ? *on : placement_.backend_for_tensor(info.name);
    auto t = backend.upload_weight(src);
    if (!t) return error("tensor '{}': {}", info.name, t.message());
    if (counted_.insert(info.name).second) {
        bytes_bound_ += info.n_bytes;
        params_bound_ += info.n_elements();
    }
    return t;
}

}  // namespace rf::model
