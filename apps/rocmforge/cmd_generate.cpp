// `rocmforge generate`: stream a completion of a prompt to stdout (the prompt is not echoed;
// logs and timings go to stderr). Ctrl-C stops cleanly.
#include <unistd.h>

#include <cstdio>
#include <limits>
#include <string>

#include "command.h"
#include "core/log.h"
#include "engine/context.h"
#include "engine/generate.h"
#include "engine/interrupt.h"
#include "model/model_bundle.h"
#include "sampling/sampler.h"

namespace rf::cli {
namespace {

struct GenerateArgs {
    std::string model;
    std::string prompt;
    int n_predict = 128;
    int threads = 0;
    std::string device = "auto";
    std::string gpu_layers = "auto";
    int ctx_size = 0;
    std::vector<std::string> stop;
    sampling::SamplerParams sampler;
    bool ignore_eos = false;
};

Status run_generate(const GenerateArgs& a) {
    RF_ASSIGN_OR_RETURN(model::ModelBundle m, model::open_model(a.model, {a.threads, a.device, a.gpu_layers, a.ctx_size}));
    if (!m.tokenizer) return error("{}: the file has no tokenizer (tokenizer.ggml.model)", m.path);
    engine::ContextParams cp;
    cp.n_ctx = a.ctx_size;
    RF_ASSIGN_OR_RETURN(auto ctx, engine::Context::create(*m.model, cp));
    const auto prompt = m.tokenizer->encode(a.prompt, /*add_special=*/true, /*parse_special=*/true);
    log::info("prompt: {} tokens, context {}, backend {}", prompt.size(), ctx->n_ctx(), m.model->placement());

    const tok::Tokenizer& tokenizer = *m.tokenizer;
    sampling::SamplerParams sp = a.sampler;
    // --ignore-eos: end-of-generation tokens are never drawn (as llama.cpp does it, a -inf bias).
    if (a.ignore_eos) {
        for (int32_t id : tokenizer.eog_ids()) sp.logit_bias[id] = -std::numeric_limits<float>::infinity();
    }
    sampling::Sampler sampler(sp);
    engine::GenerateParams gp;
    gp.max_tokens = a.n_predict;
    gp.stop = a.stop;
    gp.sampler = &sampler;
    gp.on_text = [](std::string_view piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        return true;
    };
    engine::install_interrupt_handler();
    gp.cancel = &engine::interrupt_flag();
    RF_ASSIGN_OR_RETURN(engine::GenerateResult r, engine::generate(*ctx, tokenizer, prompt, gp));
    if (isatty(STDOUT_FILENO) && (r.text.empty() || r.text.back() != '\n')) std::fputc('\n', stdout);
    std::fflush(stdout);
    const double n_eval = r.n_prompt - r.n_prompt_cached;
    log::info("prompt eval: {} tokens in {:.2f} s ({:.1f} t/s); generation: {} tokens in {:.2f} s "
              "({:.1f} t/s); stop: {}",
              n_eval, r.prompt_seconds, r.prompt_seconds > 0 ? n_eval / r.prompt_seconds : 0.0,
              r.tokens.size(), r.gen_seconds,
              r.gen_seconds > 0 ? static_cast<double>(r.tokens.size()) / r.gen_seconds : 0.0,
              engine::finish_reason_name(r.finish));
    return Status::ok();
}

}  // namespace

void register_generate(CLI::App& root, CommandContext& ctx) {
    auto args = std::make_shared<GenerateArgs>();
    auto* cmd = root.add_subcommand("generate", "Generate text from a prompt (streams to stdout)");
    cmd->add_option("-m,--model", args->model, "GGUF model (default: the embedded default model)");
    cmd->add_option("-p,--prompt", args->prompt, "Prompt text")->required();
    cmd->add_option("-n,--n-predict", args->n_predict, "Tokens to generate (-1: until the context is full)");
    cmd->add_option("--temp", args->sampler.temperature, "Temperature (0: greedy)");
    cmd->add_option("--top-k", args->sampler.top_k, "Top-k (0: off)");
    cmd->add_option("--top-p", args->sampler.top_p, "Top-p (1: off)");
    cmd->add_option("--min-p", args->sampler.min_p, "Min-p (0: off)");
    cmd->add_option("--typical", args->sampler.typical_p, "Typical-p (1: off)");
    cmd->add_option("--repeat-penalty", args->sampler.repeat_penalty, "Repetition penalty (1: off)");
    cmd->add_option("--presence-penalty", args->sampler.presence_penalty, "Presence penalty");
    cmd->add_option("--frequency-penalty", args->sampler.frequency_penalty, "Frequency penalty");
    cmd->add_option("--repeat-last-n", args->sampler.penalty_last_n, "Penalty window (-1: all)");
    cmd->add_option("--seed", args->sampler.seed, "Random seed (same seed, same text)");
    cmd->add_option("--stop", args->stop, "Stop string (repeatable); not printed");
    cmd->add_flag("--ignore-eos", args->ignore_eos, "Keep generating past end-of-generation tokens");
    cmd->add_option("-t,--threads", args->threads, "CPU threads (default: all cores)");
    cmd->add_option("--device", args->device, "auto (GPU when usable), gpu, gpu:N or cpu");
    cmd->add_option("--gpu-layers,--ngl", args->gpu_layers,
                    "Layers on the GPU, the rest on the CPU: N, auto (as many as fit) or all");
    cmd->add_option("-c,--ctx-size", args->ctx_size, "Context size in tokens (default: min(training, 4096))");
    cmd->callback([args, &ctx] {
        const Status st = run_generate(*args);
        ctx.exit_code = st.is_ok() ? 0 : report_error(st);
    });
}

}  // namespace rf::cli
