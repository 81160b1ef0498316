// `rocmforge chat`: an interactive conversation rendered with the model's own chat template.
// Each turn re-renders the whole conversation; the KV cache keeps the common prefix, so only the
// new tokens are evaluated. Ctrl-C ends the current answer; Ctrl-D (or /exit) ends the session.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "command.h"
#include "core/log.h"
#include "engine/context.h"
#include "engine/generate.h"
#include "engine/interrupt.h"
#include "model/model_bundle.h"
#include "sampling/sampler.h"

namespace rf::cli {
namespace {

// Used when the file carries no template (base models): ChatML.
constexpr const char* kFallbackTemplate =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] "
    "+ '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
    "{% endif %}";

struct ChatArgs {
    std::string model;
    std::string system;
    int n_predict = -1;
    int threads = 0;
    std::string device = "auto";
    std::string gpu_layers = "auto";
    int ctx_size = 0;
    sampling::SamplerParams sampler;
};

std::string token_text_or_empty(const tok::Tokenizer& tk, int32_t id) {
    return id >= 0 ? std::string(tk.token_text(id)) : std::string();
}

// Prompt tokens of the conversation so far, ready for the assistant's answer.
Result<std::vector<int32_t>> render_prompt(const chat::ChatTemplate& tmpl, const tok::Tokenizer& tk,
                                           const nlohmann::ordered_json& messages) {
    chat::RenderOptions opt;
    opt.add_generation_prompt = true;
    opt.bos_token = token_text_or_empty(tk, tk.bos());
    opt.eos_token = token_text_or_empty(tk, tk.eos());
    RF_ASSIGN_OR_RETURN(std::string text, tmpl.render(messages, opt));
    // Templates usually write the BOS text themselves; let the tokenizer add it when they don't.
    const bool has_bos_text = !opt.bos_token.empty() && text.starts_with(opt.bos_token);
    auto ids = tk.encode(text, /*add_special=*/!has_bos_text, /*parse_special=*/true);
    return ids;
}

Status run_chat(const ChatArgs& a) {
    RF_ASSIGN_OR_RETURN(model::ModelBundle m, model::open_model(a.model, {a.threads, a.device, a.gpu_layers, a.ctx_size}));
    if (!m.tokenizer) return error("{}: the file has no tokenizer", m.path);
    if (m.chat_template.empty()) log::warn("the model has no chat template; using ChatML");
    RF_ASSIGN_OR_RETURN(chat::ChatTemplate tmpl,
                        chat::ChatTemplate::parse(m.chat_template.empty() ? kFallbackTemplate : m.chat_template));
    engine::ContextParams cp;
    cp.n_ctx = a.ctx_size;
    RF_ASSIGN_OR_RETURN(auto ctx, engine::Context::create(*m.model, cp));
    const tok::Tokenizer& tk = *m.tokenizer;
    sampling::Sampler sampler(a.sampler);
    engine::install_interrupt_handler();

    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    if (!a.system.empty()) messages.push_back({{"role", "system"}, {"content", a.system}});
    const bool interactive = isatty(STDIN_FILENO);
    if (interactive) std::fprintf(stderr, "chat with %s (Ctrl-D or /exit to quit)\n", m.model->info().name.c_str());
    std::string line;
    while (true) {
        if (interactive) std::fprintf(stderr, "\n> ");
        if (!std::getline(std::cin, line) || engine::interrupt_flag().load()) break;
        if (line == "/exit" || line == "/quit") break;
        if (line.empty()) continue;
        messages.push_back({{"role", "user"}, {"content", line}});
        auto prompt = render_prompt(tmpl, tk, messages);
        if (!prompt) return prompt.status();
        engine::GenerateParams gp;
        gp.max_tokens = a.n_predict;
        gp.sampler = &sampler;
        gp.on_text = [](std::string_view piece) {
            std::fwrite(piece.data(), 1, piece.size(), stdout);
            std::fflush(stdout);
            return true;
        };
        gp.cancel = &engine::interrupt_flag();
        auto r = engine::generate(*ctx, tk, *prompt, gp);
        if (!r) {
            // Most likely the conversation outgrew the context: start afresh.
            log::error("{}; the conversation is reset", r.message());
            messages.erase(messages.begin() + (a.system.empty() ? 0 : 1), messages.end());
            ctx->clear();
            continue;
        }
        std::fputc('\n', stdout);
        std::fflush(stdout);
        messages.push_back({{"role", "assistant"}, {"content", r->text}});
        engine::clear_interrupt();
    }
    return Status::ok();
}

}  // namespace

void register_chat(CLI::App& root, CommandContext& ctx) {
    auto args = std::make_shared<ChatArgs>();
    auto* cmd = root.add_subcommand("chat", "Interactive chat using the model's chat template");
    cmd->add_option("-m,--model", args->model, "GGUF model (default: the embedded default model)");
    cmd->add_option("-s,--system", args->system, "System prompt");
    cmd->add_option("-n,--n-predict", args->n_predict, "Max tokens per answer (-1: no limit)");
    cmd->add_option("--temp", args->sampler.temperature, "Temperature (0: greedy)");
    cmd->add_option("--top-k", args->sampler.top_k, "Top-k (0: off)");
    cmd->add_option("--top-p", args->sampler.top_p, "Top-p (1: off)");
    cmd->add_option("--min-p", args->sampler.min_p, "Min-p (0: off)");
    cmd->add_option("--repeat-penalty", args->sampler.repeat_penalty, "Repetition penalty (1: off)");
    cmd->add_option("--seed", args->sampler.seed, "Random seed");
    cmd->add_option("-t,--threads", args->threads, "CPU threads (default: all cores)");
    cmd->add_option("--device", args->device, "auto (GPU when usable), gpu, gpu:N or cpu");
    cmd->add_option("--gpu-layers,--ngl", args->gpu_layers,
                    "Layers on the GPU, the rest on the CPU: N, auto (as many as fit) or all");
    cmd->add_option("-c,--ctx-size", args->ctx_size, "Context size in tokens");
    cmd->callback([args, &ctx] {
        const Status st = run_chat(*args);
        ctx.exit_code = st.is_ok() ? 0 : report_error(st);
    });
}

}  // namespace rf::cli
