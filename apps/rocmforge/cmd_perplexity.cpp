// `rocmforge perplexity`: llama.cpp's convention — the text is cut into chunks of --ctx-size
// tokens, each chunk starts with BOS (when the model adds one) and only its second half is
// scored. Prints the running value per chunk and `Final estimate: PPL = x +/- y`.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "command.h"
#include "core/log.h"
#include "core/mapped_file.h"
#include "engine/context.h"
#include "engine/interrupt.h"
#include "model/model_bundle.h"

namespace rf::cli {
namespace {

struct PerplexityArgs {
    std::string model;
    std::string file;
    int ctx_size = 512;
    int chunks = -1;
    int threads = 0;
    std::string device = "auto";
    std::string gpu_layers = "auto";
};

// -log softmax(logits)[target], in double.
double nll_of(std::span<const float> logits, int32_t target) {
    float mx = logits[0];
    for (float l : logits) mx = std::max(mx, l);
    double sum = 0.0;
    for (float l : logits) sum += std::exp(static_cast<double>(l - mx));
    return std::log(sum) - static_cast<double>(logits[static_cast<size_t>(target)] - mx);
}

Status run_perplexity(const PerplexityArgs& a) {
    if (a.ctx_size < 8) return error("--ctx-size must be at least 8");
    RF_ASSIGN_OR_RETURN(std::string text, read_text_file(a.file));
    RF_ASSIGN_OR_RETURN(model::ModelBundle m, model::open_model(a.model, {a.threads, a.device, a.gpu_layers, a.ctx_size}));
    if (!m.tokenizer) return error("{}: the file has no tokenizer", m.path);
    const tok::Tokenizer& tk = *m.tokenizer;
    const auto tokens = tk.encode(text, /*add_special=*/true, /*parse_special=*/false);
    const int n_ctx = a.ctx_size;
    int n_chunk = static_cast<int>(tokens.size() / static_cast<size_t>(n_ctx));
    if (n_chunk == 0) {
        return error("{}: {} tokens is less than one chunk of --ctx-size {}", a.file, tokens.size(), n_ctx);
    }
    if (a.chunks > 0) n_chunk = std::min(n_chunk, a.chunks);
    engine::ContextParams cp;
    cp.n_ctx = n_ctx;
    cp.n_batch = n_ctx;
    RF_ASSIGN_OR_RETURN(auto ctx, engine::Context::create(*m.model, cp));
    log::info("perplexity: {} tokens, {} chunks of {}, scoring the second half of each", tokens.size(),
              n_chunk, n_ctx);
    engine::install_interrupt_handler();

    const int first = n_ctx / 2;
    const bool add_bos = tk.add_bos() && tk.bos() >= 0;
    const size_t n_vocab = static_cast<size_t>(ctx->n_vocab());
    double nll = 0.0, nll2 = 0.0;
    int64_t count = 0;
    engine::Batch batch;
    for (int c = 0; c < n_chunk && !engine::interrupt_flag().load(); ++c) {
        const auto t0 = std::chrono::steady_clock::now();
        const size_t start = static_cast<size_t>(c) * static_cast<size_t>(n_ctx);
        ctx->clear();
        batch.clear();
        for (int j = 0; j < n_ctx; ++j) {
            int32_t tok = tokens[start + static_cast<size_t>(j)];
            if (j == 0 && add_bos) tok = tk.bos();
            // Logits at j predict token j + 1; score j in [first, n_ctx - 1).
            batch.add(tok, 0, j, j >= first && j < n_ctx - 1);
        }
        RF_ASSIGN_OR_RETURN(std::span<const float> logits, ctx->decode(batch));
        for (int j = first; j < n_ctx - 1; ++j) {
            const auto row = logits.subspan(static_cast<size_t>(j - first) * n_vocab, n_vocab);
            const double v = nll_of(row, tokens[start + static_cast<size_t>(j) + 1]);
            nll += v;
            nll2 += v * v;
            ++count;
        }
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (c == 0) log::info("{:.2f} s per chunk, ETA {:.1f} s", secs, secs * (n_chunk - 1));
        std::printf("[%d]%.4f,", c + 1, std::exp(nll / static_cast<double>(count)));
        std::fflush(stdout);
    }
    if (count == 0) return error("perplexity: interrupted before the first chunk finished");
    const double mean = nll / static_cast<double>(count);
    const double var = nll2 / static_cast<double>(count) - mean * mean;
    const double err = count > 1 ? std::sqrt(std::max(var, 0.0) / static_cast<double>(count - 1)) : 0.0;
    const double ppl = std::exp(mean);
    std::printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", ppl, ppl * err);
    return Status::ok();
}

}  // namespace

void register_perplexity(CLI::App& root, CommandContext& ctx) {
    auto args = std::make_shared<PerplexityArgs>();
    auto* cmd = root.add_subcommand("perplexity", "Perplexity of a model on a text file");
    cmd->add_option("-m,--model", args->model, "GGUF model")->required();
    cmd->add_option("-f,--file", args->file, "Text file")->required();
    cmd->add_option("-c,--ctx-size", args->ctx_size, "Tokens per chunk");
    cmd->add_option("--chunks", args->chunks, "Score at most this many chunks");
    cmd->add_option("-t,--threads", args->threads, "CPU threads (default: all cores)");
    cmd->add_option("--device", args->device, "auto (GPU when usable), gpu, gpu:N or cpu");
    cmd->add_option("--gpu-layers,--ngl", args->gpu_layers,
                    "Layers on the GPU, the rest on the CPU: N, auto (as many as fit) or all");
    cmd->callback([args, &ctx] {
        const Status st = run_perplexity(*args);
        ctx.exit_code = st.is_ok() ? 0 : report_error(st);
    });
}

}  // namespace rf::cli
