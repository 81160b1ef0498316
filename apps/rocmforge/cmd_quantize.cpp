// `rocmforge quantize IN OUT TYPE [--pure]`: re-quantize a GGUF model to a llama.cpp-style mix
// (Q4_K_M, Q5_K_S, Q8_0, ...); 1-D tensors such as norms keep their type.
#include <memory>
#include <string>

#include "command.h"
#include "convert/quant_plan.h"
#include "convert/quantize_model.h"
#include "core/log.h"

namespace rf::cli {
namespace {

struct QuantizeArgs {
    std::string in;
    std::string out;
    std::string type;
    bool pure = false;
    bool fast = false;
    int threads = 0;
};

// One line per tensor type: "q4_K 193, q6_K 33, f32 65".
std::string type_summary(const convert::ConvertReport& r) {
    std::string out;
    for (const auto& [name, count] : r.type_counts) {
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", name, count);
    }
    return out;
}

Status run_quantize(const QuantizeArgs& a) {
    RF_ASSIGN_OR_RETURN(const gguf::FileType ftype, convert::parse_preset(a.type));
    convert::QuantizeOptions options;
    options.ftype = ftype;
    options.pure = a.pure;
    options.n_threads = a.threads;
    options.fast = a.fast;
    RF_ASSIGN_OR_RETURN(const convert::ConvertReport r,
                        convert::quantize_model(a.in, a.out, options));
    log::info("quantize: {} -> {} ({}{}) in {:.1f} s", a.in, a.out, gguf::file_type_name(ftype),
              a.pure ? ", pure" : "", r.seconds);
    std::printf("%s: %.2f MiB -> %.2f MiB, %.3f bits per weight, %llu parameters; tensors: %s%s\n",
                a.out.c_str(), static_cast<double>(r.in_bytes) / (1 << 20),
                static_cast<double>(r.out_bytes) / (1 << 20), r.bits_per_weight(),
                static_cast<unsigned long long>(r.n_params), type_summary(r).c_str(),
                r.n_fallbacks ? fmt::format(" ({} shape fallbacks)", r.n_fallbacks).c_str() : "");
    return Status::ok();
}

}  // namespace

void register_quantize(CLI::App& root, CommandContext& ctx) {
    auto args = std::make_shared<QuantizeArgs>();
    auto* cmd = root.add_subcommand("quantize", "Re-quantize a GGUF model (Q4_K_M, Q8_0, ...)");
    cmd->add_option("IN", args->in, "Input GGUF")->required();
    cmd->add_option("OUT", args->out, "Output GGUF")->required();
    cmd->add_option("TYPE", args->type,
                    "Q4_K_M, Q4_K_S, Q5_K_M, Q5_K_S, Q3_K_S/M/L, Q2_K, Q6_K, Q8_0, Q4_0, Q4_1, "
                    "Q5_0, Q5_1, IQ4_NL, IQ4_XS, TQ1_0, TQ2_0, F16, BF16, F32")
        ->required();
    cmd->add_flag("--pure", args->pure, "One type for every quantizable tensor (no mixing)");
    cmd->add_flag("--fast", args->fast,
                  "Round-to-nearest quantizers (no scale search; much faster, slightly less "
                  "accurate)");
    cmd->add_option("-t,--threads", args->threads,
                    "Tensors converted at once (default: all cores)");
    cmd->callback([args, &ctx] {
        const Status s = run_quantize(*args);
        ctx.exit_code = s.is_ok() ? 0 : report_error(s);
    });
}

}  // namespace rf::cli
