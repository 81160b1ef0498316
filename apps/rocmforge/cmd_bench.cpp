// `rocmforge bench`: prompt-processing (ppN) and token-generation (tgN) throughput, printed as a
// markdown table shaped like llama-bench's, plus the weight bandwidth tg achieves.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "command.h"
#include "core/log.h"
#include "engine/context.h"
#include "model/model_bundle.h"

namespace rf::cli {
namespace {

struct BenchArgs {
    std::string model;
    int n_prompt = 512;
    int n_gen = 128;
    int repetitions = 3;
    int threads = 0;
    std::string device = "auto";
    std::string gpu_layers = "auto";
};

struct Stats {
    double mean = 0.0;
    double sd = 0.0;
};

Stats stats_of(const std::vector<double>& v) {
    Stats s;
    for (double x : v) s.mean += x;
    s.mean /= static_cast<double>(v.size());
    for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
    s.sd = v.size() > 1 ? std::sqrt(s.sd / static_cast<double>(v.size() - 1)) : 0.0;
    return s;
}

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One prompt of n random tokens as a single step (logits of the last token only).
Result<double> time_prompt(engine::Context& ctx, int n, std::mt19937& rng) {
    ctx.clear();
    engine::Batch b;
    std::uniform_int_distribution<int32_t> tok(0, ctx.n_vocab() - 1);
    for (int i = 0; i < n; ++i) b.add(tok(rng), 0, i, i + 1 == n);
    const double t0 = now_seconds();
    RF_RETURN_IF_ERROR(ctx.decode(b).status());
    return now_seconds() - t0;
}

// n single-token steps from an empty sequence (no sampling, as llama-bench).
Result<double> time_generation(engine::Context& ctx, int n, std::mt19937& rng) {
    ctx.clear();
    engine::Batch b;
    std::uniform_int_distribution<int32_t> tok(0, ctx.n_vocab() - 1);
    const double t0 = now_seconds();
    for (int i = 0; i < n; ++i) {
        b.clear();
        b.add(tok(rng), 0, i, true);
        RF_RETURN_IF_ERROR(ctx.decode(b).status());
    }
    return now_seconds() - t0;
}

std::string human_size(uint64_t bytes) {
    const double b = static_cast<double>(bytes);
    if (b >= 1024.0 * 1024.0 * 1024.0) return fmt::format("{:.2f} GiB", b / (1024.0 * 1024.0 * 1024.0));
    return fmt::format("{:.2f} MiB", b / (1024.0 * 1024.0));
}

Status run_bench(const BenchArgs& a) {
    if (a.repetitions < 1 || a.n_prompt < 0 || a.n_gen < 0) return error("bench: -p, -n must be >= 0 and -r >= 1");
    RF_ASSIGN_OR_RETURN(model::ModelBundle m, model::open_model(a.model, {a.threads, a.device, a.gpu_layers, std::max(a.n_prompt, a.n_gen) + 1}));
    engine::ContextParams cp;
    cp.n_ctx = std::max(a.n_prompt, a.n_gen) + 1;
    cp.n_batch = std::max(a.n_prompt, 1);
    cp.n_outputs_max = 1;
    RF_ASSIGN_OR_RETURN(auto ctx, engine::Context::create(*m.model, cp));
    const engine::ModelInfo& info = m.model->info();
    const int threads = a.threads > 0 ? a.threads : static_cast<int>(std::thread::hardware_concurrency());
    std::mt19937 rng(1234);

    // Warm-up: pages the weights in and sizes every scratch buffer.
    if (a.n_prompt > 0) RF_RETURN_IF_ERROR(time_prompt(*ctx, a.n_prompt, rng).status());
    if (a.n_gen > 0) RF_RETURN_IF_ERROR(time_generation(*ctx, std::min(a.n_gen, 4), rng).status());

    const std::string model_name = fmt::format("{} {} {}", info.arch, info.size_label, info.file_type);
    std::printf("| %-30s | %10s | %10s | %-10s | %7s | %15s | %20s | %8s |\n", "model", "size", "params",
                "backend", "threads", "test", "t/s", "GB/s");
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", std::string(30, '-').c_str(),
                (std::string(9, '-') + ":").c_str(), (std::string(9, '-') + ":").c_str(),
                std::string(10, '-').c_str(), (std::string(6, '-') + ":").c_str(),
                (std::string(14, '-') + ":").c_str(), (std::string(19, '-') + ":").c_str(),
                (std::string(7, '-') + ":").c_str());
    auto row = [&](const std::string& test, const Stats& s, const std::string& gbs) {
        std::printf("| %-30s | %10s | %10s | %-10s | %7d | %15s | %20s | %8s |\n", model_name.c_str(),
                    human_size(info.weight_bytes).c_str(),
                    fmt::format("{:.2f} B", static_cast<double>(info.n_params) / 1e9).c_str(),
                    m.model->placement().c_str(), threads, test.c_str(),
                    fmt::format("{:.2f} ± {:.2f}", s.mean, s.sd).c_str(), gbs.c_str());
        std::fflush(stdout);
    };
    if (a.n_prompt > 0) {
        std::vector<double> tps;
        for (int r = 0; r < a.repetitions; ++r) {
            RF_ASSIGN_OR_RETURN(double sec, time_prompt(*ctx, a.n_prompt, rng));
            tps.push_back(a.n_prompt / sec);
        }
        row(fmt::format("pp{}", a.n_prompt), stats_of(tps), "-");
    }
    if (a.n_gen > 0) {
        std::vector<double> tps;
        for (int r = 0; r < a.repetitions; ++r) {
            RF_ASSIGN_OR_RETURN(double sec, time_generation(*ctx, a.n_gen, rng));
            tps.push_back(a.n_gen / sec);
        }
        const Stats s = stats_of(tps);
        // Weights read per token (embedding: one row) times tokens per second.
        row(fmt::format("tg{}", a.n_gen), s,
            fmt::format("{:.2f}", static_cast<double>(info.decode_bytes) * s.mean / 1e9));
    }
    log::info("tg reads {:.2f} GB of weights per token", static_cast<double>(info.decode_bytes) / 1e9);
    return Status::ok();
}

}  // namespace

void register_bench(CLI::App& root, CommandContext& ctx) {
    auto args = std::make_shared<BenchArgs>();
    auto* cmd = root.add_subcommand("bench", "Measure prompt processing and generation speed");
    cmd->add_option("-m,--model", args->model, "GGUF model")->required();
    cmd->add_option("-p,--n-prompt", args->n_prompt, "Prompt tokens of the pp test (0: skip)");
    cmd->add_option("-n,--n-gen", args->n_gen, "Generated tokens of the tg test (0: skip)");
    cmd->add_option("-r,--repetitions", args->repetitions, "Repetitions of each test");
    cmd->add_option("-t,--threads", args->threads, "CPU threads (default: all cores)");
    cmd->add_option("--device", args->device, "auto (GPU when usable), gpu, gpu:N or cpu");
    cmd->add_option("--gpu-layers,--ngl", args->gpu_layers,
                    "Layers on the GPU, the rest on the CPU: N, auto (as many as fit) or all");
    cmd->callback([args, &ctx] {
        const Status st = run_bench(*args);
        ctx.exit_code = st.is_ok() ? 0 : report_error(st);
    });
}

}  // namespace rf::cli
