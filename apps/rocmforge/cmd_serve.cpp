// `rocmforge serve`: the OpenAI-compatible HTTP server. Listens first (so /health can say
// "loading"), then loads the model and starts the continuous-batching scheduler. SIGTERM or
// SIGINT stops accepting, lets in-flight responses finish until a deadline, then exits 0.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "command.h"
#include "core/log.h"
#include "engine/scheduler.h"
#include "model/model_bundle.h"
#include "server/http_server.h"
#include "server/serving_model.h"

namespace rf::cli {
namespace {

struct ServeArgs {
    std::string model;
    std::string alias;
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string api_key;
    std::string api_key_file;
    int parallel = 4;
    int ctx_size = 0;
    int max_queue = 64;
    int timeout = 600;
    int threads = 0;
    std::string device = "auto";
    std::string gpu_layers = "auto";
    int batch = 512;
    int64_t kv_size = 0;
    int block_size = 16;
    int cache_seqs = -1;
    size_t max_body = 8u << 20;
    int shutdown_timeout = 30;
    int http_threads = 0;
};

Result<std::string> read_api_key(const ServeArgs& a) {
    if (a.api_key_file.empty()) return a.api_key;
    std::ifstream in(a.api_key_file);
    if (!in) return error("cannot read the API key file '{}'", a.api_key_file);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string key = ss.str();
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) key.pop_back();
    if (key.empty()) return error("the API key file '{}' is empty", a.api_key_file);
    return key;
}

// Sequence-level serving settings from the command line.
engine::SchedulerParams scheduler_params(const ServeArgs& a) {
    engine::SchedulerParams sp;
    sp.n_parallel = a.parallel;
    sp.n_ctx = a.ctx_size;
    sp.n_batch = a.batch;
    sp.kv_tokens = a.kv_size;
    sp.block_size = a.block_size;
    sp.max_queue = a.max_queue;
    sp.n_cached_seqs = a.cache_seqs;
    return sp;
}

server::HttpOptions http_options(const ServeArgs& a, std::string api_key) {
    server::HttpOptions ho;
    ho.host = a.host;
    ho.port = a.port;
    ho.api_key = std::move(api_key);
    ho.max_body_bytes = a.max_body;
    ho.timeout_s = a.timeout;
    // Each open connection holds a thread: room for every running and queued stream plus
    // health checks and scrapes.
    ho.n_threads = a.http_threads > 0 ? a.http_threads
                                      : std::clamp(2 * a.parallel + a.max_queue + 16, 32, 1024);
    return ho;
}

// Blocks until SIGINT or SIGTERM (both are blocked in every thread, see run_serve).
int wait_for_signal(const sigset_t& set) {
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    return sig;
}

void drain(server::HttpServer& http, engine::Scheduler& scheduler, int deadline_s) {
    using Clock = std::chrono::steady_clock;
    scheduler.close();
    http.begin_drain();
    const auto deadline = Clock::now() + std::chrono::seconds(deadline_s);
    while (http.in_flight() > 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (http.in_flight() > 0) {
        log::warn("serve: {} responses still running at the {} s deadline; cancelling them",
                  http.in_flight(), deadline_s);
        scheduler.cancel_all();
    }
    http.join();
}

Status run_serve(const ServeArgs& a) {
    RF_ASSIGN_OR_RETURN(std::string api_key, read_api_key(a));
    if (a.parallel <= 0 || a.max_queue < 0 || a.batch <= 0) {
        return error("--parallel and --batch-size must be positive and --max-queue >= 0");
    }
    // Every thread created from here on inherits the blocked set; only sigwait() sees them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    server::Metrics metrics;
    server::HttpServer http(http_options(a, api_key), metrics);
    RF_RETURN_IF_ERROR(http.bind());
    log::info("serve: listening on http://{}:{}{}", a.host, http.port(),
              api_key.empty() ? "" : " (API key required)");
    http.start();

    // KV capacity for the offload estimate: --kv-size, else ctx-size x parallel (0: the default).
    const int64_t kv_tokens = a.kv_size > 0 ? a.kv_size : int64_t{a.ctx_size} * a.parallel;
    RF_ASSIGN_OR_RETURN(model::ModelBundle bundle,
                        model::open_model(a.model, {a.threads, a.device, a.gpu_layers, kv_tokens}));
    if (!bundle.tokenizer) return error("{}: the file has no tokenizer (tokenizer.ggml.model)", bundle.path);
    RF_ASSIGN_OR_RETURN(auto scheduler,
                        engine::Scheduler::create(*bundle.model, *bundle.tokenizer, scheduler_params(a)));

    server::ServingModel serving;
    serving.id = !a.alias.empty() ? a.alias : bundle.model->info().name;
    serving.created = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
    serving.tokenizer = bundle.tokenizer.get();
    serving.scheduler = scheduler.get();
    const tok::Tokenizer& tk = *bundle.tokenizer;
    if (tk.bos() >= 0) serving.bos_text = std::string(tk.token_text(tk.bos()));
    if (tk.eos() >= 0) serving.eos_text = std::string(tk.token_text(tk.eos()));
    if (Status st = server::load_chat_template(serving, bundle.chat_template); !st) {
        log::warn("serve: {}; using the ChatML fallback", st.message());
        RF_RETURN_IF_ERROR(server::load_chat_template(serving, ""));
    }
    http.set_model(&serving);
    log::info("serve: ready: model '{}' ({} s to load){}", serving.id, bundle.load_seconds,
              serving.chat_template_is_fallback ? "; no chat template in the file, using ChatML" : "");

    const int sig = wait_for_signal(set);
    log::info("serve: {} received: draining (deadline {} s)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
              a.shutdown_timeout);
    drain(http, *scheduler, a.shutdown_timeout);
    log::info("serve: stopped");
    return Status::ok();
}

}  // namespace

void register_serve(CLI::App& root, CommandContext& ctx) {
    auto a = std::make_shared<ServeArgs>();
    auto* cmd = root.add_subcommand("serve", "OpenAI-compatible HTTP server with continuous batching");
    cmd->add_option("-m,--model", a->model, "GGUF model (default: the embedded default model)");
    cmd->add_option("--alias", a->alias, "Model name reported by /v1/models (default: general.name)");
    cmd->add_option("--host", a->host, "Address to listen on (default: loopback only)");
    cmd->add_option("--port", a->port, "Port to listen on (0: any free port)");
    auto* key = cmd->add_option("--api-key", a->api_key, "Require 'Authorization: Bearer KEY'");
    auto* key_file = cmd->add_option("--api-key-file", a->api_key_file, "Read the API key from a file");
    key->excludes(key_file);
    cmd->add_option("--parallel", a->parallel, "Sequences decoded together");
    cmd->add_option("-c,--ctx-size", a->ctx_size, "Max tokens per sequence (default: min(training, 4096))");
    cmd->add_option("--max-queue", a->max_queue, "Sequences that may wait for a slot; beyond: 429");
    cmd->add_option("--timeout", a->timeout, "Socket read/write timeout in seconds");
    cmd->add_option("-t,--threads", a->threads, "CPU threads (default: all cores)");
    cmd->add_option("--device", a->device, "auto (GPU when usable), gpu, gpu:N or cpu");
    cmd->add_option("--gpu-layers,--ngl", a->gpu_layers,
                    "Layers on the GPU, the rest on the CPU: N, auto (as many as fit) or all");
    cmd->add_option("-b,--batch-size", a->batch, "Token budget of one engine step (decodes + prompt chunks)");
    cmd->add_option("--kv-size", a->kv_size, "KV cache pool in tokens (default: ctx-size x parallel)");
    cmd->add_option("--block-size", a->block_size, "Tokens per KV cache block");
    cmd->add_option("--cache-seqs", a->cache_seqs, "Finished sequences kept for prefix reuse (0: off; default: parallel)");
    cmd->add_option("--max-body", a->max_body, "Largest request body in bytes (larger: 413)");
    cmd->add_option("--shutdown-timeout", a->shutdown_timeout, "Seconds in-flight work may run after SIGTERM");
    cmd->add_option("--http-threads", a->http_threads, "Connection threads (default: from --parallel and --max-queue)");
    cmd->callback([a, &ctx] {
        const Status st = run_serve(*a);
        ctx.exit_code = st ? 0 : report_error(st);
    });
}

}  // namespace rf::cli
