// `rocmforge inspect MODEL [--json]`: architecture, hyper-parameters, tokenizer summary, tensor
// table and totals of a GGUF file. Reads only the header through the mapping (no tensor data).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "gguf/file_type.h"
#include "gguf/gguf_file.h"
#include "gguf/keys.h"

namespace rf::cli {
namespace {

using gguf::GgufFile;
using gguf::Value;
using gguf::ValueType;
using nlohmann::ordered_json;

struct Totals {
    uint64_t n_params = 0;
    uint64_t n_bytes = 0;
    double bits_per_weight() const {
        if (n_params == 0) return 0.0;
        return 8.0 * static_cast<double>(n_bytes) / static_cast<double>(n_params);
    }
};

Totals totals_of(const GgufFile& file) {
    Totals t;
    for (const gguf::TensorInfo& info : file.tensors()) {
        t.n_params += info.n_elements();
        t.n_bytes += info.n_bytes;
    }
    return t;
}

std::string file_type_text(const GgufFile& file) {
    const Value* v = file.find(gguf::keys::kGeneralFileType);
    if (v == nullptr || !v->is_integer()) return "unknown (general.file_type absent)";
    const uint64_t id = v->as_u64();
    const std::string_view name = gguf::file_type_name(static_cast<uint32_t>(id));
    return fmt::format("{} ({})", name.empty() ? "unknown" : name, id);
}

// Count of an array-valued key, or -1 when absent or not an array.
int64_t array_size(const GgufFile& file, std::string_view key) {
    const Value* v = file.find(key);
    return v != nullptr && v->is_array() ? static_cast<int64_t>(v->as_array().items.size()) : -1;
}

// JSON for one metadata value; large arrays are summarised (type + count + first items).
ordered_json value_json(const Value& v) {
    switch (v.type) {
        case ValueType::kBool:
            return v.as_bool();
        case ValueType::kString:
            return v.as_string();
        case ValueType::kFloat32:
        case ValueType::kFloat64:
            return v.as_f64();
        case ValueType::kArray: {
            const gguf::Array& a = v.as_array();
            constexpr size_t kMaxItems = 16;
            if (a.items.size() <= kMaxItems) {
                ordered_json items = ordered_json::array();
                for (const Value& item : a.items) items.push_back(value_json(item));
                return items;
            }
            ordered_json head = ordered_json::array();
            for (size_t i = 0; i < 4; ++i) head.push_back(value_json(a.items[i]));
            return {{"array_of", gguf::value_type_name(a.element_type)},
                    {"count", a.items.size()},
                    {"first", std::move(head)}};
        }
        default:
            break;
    }
    if (const int64_t* i = std::get_if<int64_t>(&v.data)) return *i;
    return v.as_u64();
}

ordered_json optional_json(const GgufFile& file, std::string_view key) {
    const Value* v = file.find(key);
    return v == nullptr ? ordered_json(nullptr) : value_json(*v);
}

ordered_json tokenizer_json(const GgufFile& file) {
    namespace k = gguf::keys;
    const Value* tmpl = file.find(k::kTokenizerChatTemplate);
    const bool has_template = tmpl != nullptr && tmpl->is_string();
    return {{"model", optional_json(file, k::kTokenizerModel)},
            {"pre", optional_json(file, k::kTokenizerPre)},
            {"vocab_size", array_size(file, k::kTokenizerTokens)},
            {"merges", std::max<int64_t>(0, array_size(file, k::kTokenizerMerges))},
            {"bos_token_id", optional_json(file, k::kTokenizerBosId)},
            {"eos_token_id", optional_json(file, k::kTokenizerEosId)},
            {"chat_template", has_template},
            {"chat_template_bytes", has_template ? tmpl->as_string().size() : 0}};
}

ordered_json report_json(const std::string& path, const GgufFile& file) {
    const std::string arch = file.architecture();
    ordered_json hparams = ordered_json::object();
    ordered_json general = ordered_json::object();
    for (const auto& [key, value] : file.metadata()) {
        if (!arch.empty() && key.starts_with(arch + ".")) {
            hparams[key.substr(arch.size() + 1)] = value_json(value);
        }
        if (key.starts_with("general.")) general[key] = value_json(value);
    }
    ordered_json tensors = ordered_json::array();
    for (const gguf::TensorInfo& t : file.tensors()) {
        tensors.push_back({{"name", t.name},
                           {"type", quant::traits(t.type).name},
                           {"shape", std::vector<uint64_t>(t.ne.begin(), t.ne.begin() + t.n_dims)},
                           {"offset", t.offset},
                           {"bytes", t.n_bytes}});
    }
    const Totals totals = totals_of(file);
    const Value* ftype = file.find(gguf::keys::kGeneralFileType);
    return {{"path", path},
            {"version", file.version()},
            {"alignment", file.alignment()},
            {"data_offset", file.data_offset()},
            {"file_size", file.file_size()},
            {"architecture", arch},
            {"file_type",
             {{"id", ftype != nullptr ? value_json(*ftype) : ordered_json(nullptr)},
              {"name", file_type_text(file)}}},
            {"general", std::move(general)},
            {"hparams", std::move(hparams)},
            {"tokenizer", tokenizer_json(file)},
            {"tensors", std::move(tensors)},
            {"totals",
             {{"tensors", file.tensors().size()},
              {"parameters", totals.n_params},
              {"bytes", totals.n_bytes},
              {"bits_per_weight", totals.bits_per_weight()}}}};
}

std::string json_text(const ordered_json& j) {
    if (j.is_null()) return "-";
    if (j.is_string()) return j.get<std::string>();
    return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

void print_tokenizer(const GgufFile& file) {
    const ordered_json t = tokenizer_json(file);
    const std::string chat_template =
        t["chat_template"].get<bool>()
            ? fmt::format("yes ({} bytes)", t["chat_template_bytes"].get<size_t>())
            : "no";
    std::printf(
        "tokenizer: model %s, pre %s, vocab %s, merges %s, bos %s, eos %s, "
        "chat template %s\n",
        json_text(t["model"]).c_str(), json_text(t["pre"]).c_str(),
        json_text(t["vocab_size"]).c_str(), json_text(t["merges"]).c_str(),
        json_text(t["bos_token_id"]).c_str(), json_text(t["eos_token_id"]).c_str(),
        chat_template.c_str());
}

// Prints the metadata keys for which `pick` holds, under `title`.
template <typename Pick>
void print_metadata(const GgufFile& file, const char* title, Pick pick) {
    std::printf("%s:\n", title);
    for (const auto& [key, value] : file.metadata()) {
        if (pick(key)) std::printf("  %-44s %s\n", key.c_str(), value.to_display_string(6).c_str());
    }
}

void print_tensors(const GgufFile& file) {
    std::printf("tensors:\n  %-40s %-8s %-24s %14s %14s\n", "name", "type", "shape", "offset",
                "bytes");
    for (const gguf::TensorInfo& t : file.tensors()) {
        std::printf("  %-40s %-8s %-24s %14llu %14llu\n", t.name.c_str(),
                    std::string(quant::traits(t.type).name).c_str(), t.shape_string().c_str(),
                    static_cast<unsigned long long>(t.offset),
                    static_cast<unsigned long long>(t.n_bytes));
    }
    const Totals totals = totals_of(file);
    std::printf(
        "totals: %zu tensors, %llu parameters (%.3f B), %llu bytes (%.3f GiB), "
        "%.3f bits per weight\n",
        file.tensors().size(), static_cast<unsigned long long>(totals.n_params),
        static_cast<double>(totals.n_params) / 1e9, static_cast<unsigned long long>(totals.n_bytes),
        static_cast<double>(totals.n_bytes) / (1 << 30), totals.bits_per_weight());
}

void print_text(const std::string& path, const GgufFile& file) {
    const std::string arch = file.architecture();
    const std::string prefix = arch + ".";
    std::printf("file: %s (%.2f MiB), GGUF v%u, alignment %u, data at offset %llu\n", path.c_str(),
                static_cast<double>(file.file_size()) / (1 << 20), file.version(), file.alignment(),
                static_cast<unsigned long long>(file.data_offset()));
    std::printf("architecture: %s\nfile type: %s\n", arch.empty() ? "-" : arch.c_str(),
                file_type_text(file).c_str());
    print_metadata(file, "general", [](const std::string& k) { return k.starts_with("general."); });
    print_metadata(file, "hyper-parameters",
                   [&](const std::string& k) { return !arch.empty() && k.starts_with(prefix); });
    print_metadata(file, "other metadata", [&](const std::string& k) {
        return !k.starts_with("general.") && !k.starts_with("tokenizer.") &&
               (arch.empty() || !k.starts_with(prefix));
    });
    print_tokenizer(file);
    print_tensors(file);
}

}  // namespace

void register_inspect(CLI::App& root, CommandContext& ctx) {
    struct Options {
        std::string model;
        bool json = false;
    };
    auto opts = std::make_shared<Options>();
    auto* cmd = root.add_subcommand("inspect", "Show a GGUF file's metadata, tensors and totals");
    cmd->add_option("MODEL", opts->model, "GGUF file")->required();
    cmd->add_flag("--json", opts->json, "Print one JSON object instead of text");
    cmd->callback([opts, &ctx] {
        Result<GgufFile> file = GgufFile::open(opts->model);
        if (!file) {
            ctx.exit_code = report_error(file.status());
            return;
        }
        if (opts->json) {
            const ordered_json report = report_json(opts->model, *file);
            const std::string text =
                report.dump(2, ' ', false, ordered_json::error_handler_t::replace);
            std::printf("%s\n", text.c_str());
        } else {
            print_text(opts->model, *file);
        }
        ctx.exit_code = 0;
    });
}

}  // namespace rf::cli
