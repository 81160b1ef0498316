// `rocmforge convert HF_DIR OUT.gguf [--type f16] [--name NAME] [--threads N]`: converts a Hugging
// Face checkpoint folder (LLaMA, Mistral, Mixtral, Qwen2, Qwen3, Qwen3-MoE) to GGUF.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "command.h"
#include "core/log.h"
#include "hf/converter.h"
#include "quant/types.h"

namespace rf::cli {
namespace {

struct ConvertArgs {
    std::string dir;
    std::string out;
    std::string type = "f16";
    std::string name;
    int threads = 0;
};

Status run_convert(const ConvertArgs& args) {
    const std::optional<quant::GgmlType> type = quant::parse_type_name(args.type);
    if (!type) return error("convert: unknown type '{}'", args.type);
    hf::ConvertOptions options;
    options.type = *type;
    options.name = args.name;
    const auto t0 = std::chrono::steady_clock::now();
    RF_ASSIGN_OR_RETURN(hf::HfConversion conv, hf::HfConversion::prepare(args.dir, options));
    const hf::HfConfig& c = conv.config();
    log::info("convert: {} -> arch {}, {} layers, n_embd {}, {} heads ({} kv), head_dim {}, vocab {}{}",
              c.hf_architecture, c.gguf_arch, c.n_layer, c.n_embd, c.n_head, c.n_head_kv, c.head_dim,
              c.n_vocab, c.is_moe() ? fmt::format(", {} experts (top {})", c.n_expert, c.n_expert_used) : "");
    log::info("convert: tokenizer: {}", conv.tokenizer_summary());
    for (const std::string& w : conv.warnings()) log::warn("convert: {}", w);
    const int threads = args.threads > 0 ? args.threads
                                         : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    RF_RETURN_IF_ERROR(conv.write(args.out, threads));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: %zu tensors, %.1f MiB of tensor data, %s, %.1f s\n", args.out.c_str(), conv.n_tensors(),
                static_cast<double>(conv.writer().tensor_data_bytes()) / (1024.0 * 1024.0),
                std::string(quant::traits(*type).name).c_str(), seconds);
    return Status::ok();
}

}  // namespace

void register_convert(CLI::App& root, CommandContext& ctx) {
    auto args = std::make_shared<ConvertArgs>();
    auto* cmd = root.add_subcommand("convert", "Convert a Hugging Face model folder (safetensors) to GGUF");
    cmd->add_option("hf_dir", args->dir, "Folder with config.json, *.safetensors and tokenizer files")->required();
    cmd->add_option("out", args->out, "Output .gguf path")->required();
    cmd->add_option("--type,-t", args->type,
                    "Matrix type: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K..q6_K, iq4_nl, iq4_xs "
                    "(vectors and routers stay f32)")
        ->capture_default_str();
    cmd->add_option("--name", args->name, "general.name (default: the folder's name)");
    cmd->add_option("--threads", args->threads, "Threads converting tensors (default: all cores)");
    cmd->callback([args, &ctx] {
        const Status status = run_convert(*args);
        ctx.exit_code = status.is_ok() ? 0 : report_error(status);
    });
}

}  // namespace rf::cli
