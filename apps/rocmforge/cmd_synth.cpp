// `rocmforge synth --shape NAME --type TYPE --vocab VOCAB.gguf --out OUT [--seed S]`: a
// random-weight LLaMA-family model of a real shape, for benchmarks and loader tests.
#include <memory>
#include <string>

#include "command.h"
#include "convert/quant_plan.h"
#include "convert/synth.h"
#include "core/log.h"

namespace rf::cli {
namespace {

struct SynthArgs {
    std::string shape;
    std::string type = "Q4_0";
    std::string vocab;
    std::string out;
    uint64_t seed = 0;
    int threads = 0;
};

std::string shape_list() {
    std::string out;
    for (const convert::SynthShape& s : convert::synth_shapes()) {
        out += fmt::format("{}{}", out.empty() ? "" : ", ", s.name);
    }
    return out;
}

Status run_synth(const SynthArgs& a) {
    RF_ASSIGN_OR_RETURN(const gguf::FileType ftype, convert::parse_preset(a.type));
    convert::SynthOptions options;
    options.shape = a.shape;
    options.ftype = ftype;
    options.vocab_path = a.vocab;
    options.out_path = a.out;
    options.seed = a.seed;
    options.n_threads = a.threads;
    RF_ASSIGN_OR_RETURN(const convert::ConvertReport r, convert::synth_model(options));
    std::printf("%s: %s %s, %llu parameters, %.2f MiB, %.3f bits per weight, %.1f s\n",
                a.out.c_str(), a.shape.c_str(), std::string(gguf::file_type_name(ftype)).c_str(),
                static_cast<unsigned long long>(r.n_params),
                static_cast<double>(r.out_bytes) / (1 << 20), r.bits_per_weight(), r.seconds);
    return Status::ok();
}

}  // namespace

void register_synth(CLI::App& root, CommandContext& ctx) {
    auto args = std::make_shared<SynthArgs>();
    auto* cmd = root.add_subcommand("synth", "Write a random-weight model of a real shape");
    cmd->add_option("--shape", args->shape, "Model shape: " + shape_list())->required();
    cmd->add_option("--type", args->type, "Quantization preset (Q4_0, Q4_K_M, Q8_0, F16, ...)")
        ->capture_default_str();
    cmd->add_option("--vocab", args->vocab, "GGUF whose tokenizer.* keys are copied")->required();
    cmd->add_option("--out,-o", args->out, "Output GGUF")->required();
    cmd->add_option("--seed", args->seed, "Random seed")->capture_default_str();
    cmd->add_option("-t,--threads", args->threads,
                    "Tensors generated at once (default: all cores)");
    cmd->callback([args, &ctx] {
        const Status s = run_synth(*args);
        ctx.exit_code = s.is_ok() ? 0 : report_error(s);
    });
}

}  // namespace rf::cli
