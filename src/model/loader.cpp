// Loading a GGUF model: architecture lookup, hparams, weight binding, model facts.
#include "model/loader.h"

#include <cctype>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "core/log.h"
#include "gguf/file_type.h"
#include "model/arch.h"
#include "model/transformer.h"
#include "model/weight_loader.h"

namespace rf::model {
namespace {

// The file type: general.file_type when known, else the type holding the most weight bytes.
std::string describe_file_type(const gguf::GgufFile& f) {
    auto ft = f.get_uint_opt("general.file_type");
    if (ft && ft.value() && *ft.value() < 1024) {
        // "MOSTLY_Q4_K_M" -> "Q4_K_M", "ALL_F32" -> "F32"
        std::string name(gguf::file_type_name(static_cast<uint32_t>(*ft.value())));
        for (std::string_view prefix : {"MOSTLY_", "ALL_"}) {
            if (name.starts_with(prefix)) name = name.substr(prefix.size());
        }
        if (!name.empty()) return name;
    }
    std::map<quant::GgmlType, uint64_t> bytes;
    for (const auto& t : f.tensors()) {
        if (t.n_dims >= 2) bytes[t.type] += t.n_bytes;
    }
    quant::GgmlType best = quant::GgmlType::kF32;
    uint64_t most = 0;
    for (auto [type, b] : bytes) {
        if (b > most) most = b, best = type;
    }
    std::string name(quant::traits(best).name);
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
}

std::string size_label(uint64_t n_params) {
    const double p = static_cast<double>(n_params);
    if (p >= 1e9) return fmt::format("{:.0f}B", std::round(p / 1e9));
    return fmt::format("{:.0f}M", std::round(p / 1e6));
}

engine::ModelInfo make_info(const gguf::GgufFile& f, const HParams& hp, const Weights& w,
                            const WeightLoader& l) {
    engine::ModelInfo info;
    info.arch = hp.arch;
    auto name = f.get_string_opt("general.name");
    info.name = name && name.value() ? *name.value() : hp.arch;
    info.file_type = describe_file_type(f);
    info.n_vocab = hp.n_vocab;
    info.n_ctx_train = hp.n_ctx_train;
    info.n_embd = hp.n_embd;
    info.n_layer = hp.n_layer;
    info.n_head = hp.n_head;
    info.n_head_kv = hp.n_head_kv;
    info.head_dim_k = hp.head_dim_k;
    info.head_dim_v = hp.head_dim_v;
    info.n_params = l.params_bound();
    info.weight_bytes = l.bytes_bound();
    info.size_label = size_label(info.n_params);
    // Bytes read per decoded token: every weight, except that an untied embedding table is
    // touched one row at a time and only n_expert_used of n_expert experts run.
    const uint64_t embd_bytes = quant::row_bytes(w.token_embd.type, static_cast<size_t>(hp.n_embd)) *
                                static_cast<uint64_t>(hp.n_vocab);
    uint64_t decode = info.weight_bytes - (w.tied_embeddings ? 0 : embd_bytes);
    if (hp.n_expert > 0) {
        uint64_t expert_bytes = 0;
        for (const LayerWeights& lw : w.layers) {
            for (const Tensor* t : {&lw.moe.gate_exps, &lw.moe.up_exps, &lw.moe.down_exps}) {
                expert_bytes += t->matrix_bytes * static_cast<uint64_t>(t->ne[2]);
            }
        }
        decode -= expert_bytes - expert_bytes / static_cast<uint64_t>(hp.n_expert) *
                                     static_cast<uint64_t>(hp.n_expert_used);
    }
    info.decode_bytes = decode;
    return info;
}

}  // namespace

Result<std::unique_ptr<engine::Model>> load_model(const std::string& path,
                                                  engine::Backend& backend) {
    auto file = gguf::GgufFile::open(path);
    if (!file) return error("{}: {}", path, file.message());
    return load_model(std::move(file).value(), backend);
}

Result<std::unique_ptr<engine::Model>> load_model(gguf::GgufFile file, engine::Backend& backend) {
    return load_model(std::move(file), [&](const HParams& hp) { return Placement::single(backend, hp.n_layer); });
}

Result<std::unique_ptr<engine::Model>> load_model(gguf::GgufFile file, const PlacementFn& make_placement) {
    const std::string arch_name = file.architecture();
    if (arch_name.empty()) return error("metadata key 'general.architecture' is missing");
    const ArchSpec* arch = find_arch(arch_name);
    if (arch == nullptr) {
        return error("unsupported architecture '{}' (general.architecture); supported: {}",
                     arch_name, supported_archs());
    }
    RF_ASSIGN_OR_RETURN(HParams hp, read_hparams(file, arch->rope_type));
    const gguf::TensorInfo* embd = file.find_tensor("token_embd.weight");
    if (embd == nullptr) return error("missing tensor 'token_embd.weight'");
    if (embd->ne[1] == 0 || embd->ne[1] > (uint64_t{1} << 24)) {
        return error("tensor 'token_embd.weight': vocabulary size {} is out of range", embd->ne[1]);
    }
    hp.n_vocab = static_cast<int32_t>(embd->ne[1]);

    Placement placement = make_placement(hp);
    WeightLoader loader(file, placement);
    Weights weights;
    RF_RETURN_IF_ERROR(arch->bind(loader, hp, weights));
    engine::ModelInfo info = make_info(file, hp, weights, loader);
    log::info("loaded {} ({} {} {}, {} layers, {:.2f} GiB) on {}", info.name, info.arch,
              info.size_label, info.file_type, hp.n_layer,
              static_cast<double>(info.weight_bytes) / (1024.0 * 1024.0 * 1024.0), placement.describe());
    return std::unique_ptr<engine::Model>(new Transformer(std::move(file), std::move(placement), *arch,
                                                          std::move(hp), std::move(weights),
                                                          std::move(info)));
}

}  // namespace rf::model
