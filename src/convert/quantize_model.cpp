// `rocmforge quantize`: every tensor is converted lazily while the writer streams the output,
// several tensors at a time, so neither model sits in memory.
#include "convert/quantize_model.h"

#include <chrono>
#include <thread>

#include "convert/quant_plan.h"
#include "convert/tensor_codec.h"
#include "core/log.h"
#include "gguf/gguf_file.h"
#include "gguf/keys.h"

namespace rf::convert {

int resolve_threads(int n) {
    if (n > 0) return n;
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

namespace {

// Metadata of the input minus multi-file split bookkeeping, plus the new file type.
void copy_metadata(const gguf::GgufFile& in, gguf::FileType ftype, gguf::GgufWriter& out) {
    for (const auto& [key, value] : in.metadata()) {
        if (key.starts_with("split.")) continue;
        out.set(key, value);
    }
    out.set(std::string(gguf::keys::kGeneralFileType),
            gguf::Value::u32(static_cast<uint32_t>(ftype)));
    out.set(std::string(gguf::keys::kGeneralQuantizationVersion), gguf::Value::u32(2));
}

// Adds tensor `t` to `out` as `type`, converted row by row when the writer asks for it.
Status add_converted(const gguf::TensorInfo& t, quant::GgmlType type, Encoding encoding,
                     gguf::GgufWriter& out) {
    const std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
    const quant::GgmlType src_type = t.type;
    const std::span<const uint8_t> src = t.data;
    const auto n_cols = static_cast<int64_t>(t.ne[0]);
    const auto n_rows = static_cast<int64_t>(t.n_rows());
    return out.add_tensor_lazy(
        t.name, type, ne.empty() ? std::vector<uint64_t>{1} : ne, [=](std::span<uint8_t> dst) {
            convert_rows(src_type, src.data(), type, dst.data(), n_cols, n_rows, encoding);
        });
}

}  // namespace

Result<ConvertReport> quantize_model(const std::string& in_path, const std::string& out_path,
                                     const QuantizeOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    RF_ASSIGN_OR_RETURN(gguf::GgufFile in, gguf::GgufFile::open(in_path));
    RF_ASSIGN_OR_RETURN(ModelFacts facts, model_facts(in));
    RF_ASSIGN_OR_RETURN(QuantPlan plan, QuantPlan::make(options.ftype, options.pure, facts));
    gguf::GgufWriter out(in.alignment());
    copy_metadata(in, options.ftype, out);
    ConvertReport report;
    bool requantizing = false;
    for (size_t i = 0; i < in.tensors().size(); ++i) {
        const gguf::TensorInfo& t = in.tensors()[i];
        const TensorChoice choice = plan.choose(t.name, t.ne, t.n_dims, t.type);
        if (!choice.note.empty()) {
            log::warn("{}: {}", t.name, choice.note);
            ++report.n_fallbacks;
        }
        requantizing |= choice.type != t.type && quant::traits(t.type).is_quantized;
        log::debug("[{:4}/{}] {:40} {:20} {:>7} -> {}", i + 1, in.tensors().size(), t.name,
                   t.shape_string(), quant::traits(t.type).name, quant::traits(choice.type).name);
        RF_RETURN_IF_ERROR(add_converted(
            t, choice.type, options.fast ? Encoding::kFast : Encoding::kSearch, out));
        report.n_params += t.n_elements();
        report.in_bytes += t.n_bytes;
        ++report.type_counts[std::string(quant::traits(choice.type).name)];
    }
    if (requantizing)
        log::warn("input tensors are already quantized: re-quantizing loses accuracy");
    RF_RETURN_IF_ERROR(out.write_file(out_path, resolve_threads(options.n_threads)));
    report.out_bytes = out.tensor_data_bytes();
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return report;
}

}  // namespace rf::convert
