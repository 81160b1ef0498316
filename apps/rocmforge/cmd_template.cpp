// `rocmforge template render`: prints a conversation rendered by a chat template, byte for byte
// what Hugging Face's apply_chat_template produces (no newline added).
//   (--template T.jinja | -m MODEL [--template-name NAME]) --messages M.json [--add-generation-prompt]
//   [--bos-token S] [--eos-token S] [--tools TOOLS.json] [--vars VARS.json] [--now UNIX_SECONDS]
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "chat/chat_template.h"
#include "command.h"
#include "gguf/gguf_file.h"
#include "gguf/keys.h"

namespace rf::cli {
namespace {

struct TemplateArgs {
    std::string template_path;
    std::string model;
    std::string template_name;
    std::string messages_path;
    std::string tools_path;
    std::string vars_path;
    std::optional<std::string> bos_token;
    std::optional<std::string> eos_token;
    std::optional<int64_t> now;
    bool add_generation_prompt = false;
};

Result<std::string> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return error("cannot open '{}'", path);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) return error("cannot read '{}'", path);
    return buffer.str();
}

Result<nlohmann::ordered_json> read_json(const std::string& path) {
    RF_ASSIGN_OR_RETURN(std::string text, read_text(path));
    auto json = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) return error("'{}' is not valid JSON", path);
    return json;
}

// The token text of `key`'s id, or "" when the file has no such id.
std::string token_text(const gguf::GgufFile& file, std::string_view key) {
    const auto id = file.get_uint_opt(key);
    const auto tokens = file.get_array(gguf::keys::kTokenizerTokens);
    if (!id.is_ok() || !id->has_value() || !tokens.is_ok()) return std::string();
    const auto& items = (*tokens)->items;
    if (**id >= items.size() || !items[**id].is_string()) return std::string();
    return items[**id].as_string();
}

// The template source plus default BOS/EOS texts, from a file or from a GGUF model.
Status load_template(const TemplateArgs& a, std::string& source, std::string& bos, std::string& eos) {
    if (a.template_path.empty() == a.model.empty()) return error("give exactly one of --template and -m/--model");
    if (!a.template_path.empty()) {
        RF_ASSIGN_OR_RETURN(source, read_text(a.template_path));
        return Status::ok();
    }
    RF_ASSIGN_OR_RETURN(gguf::GgufFile file, gguf::GgufFile::open(a.model));
    std::string key(gguf::keys::kTokenizerChatTemplate);
    if (!a.template_name.empty()) key += "." + a.template_name;
    RF_ASSIGN_OR_RETURN(auto text, file.get_string_opt(key));
    if (!text) return error("{}: the model has no '{}'", a.model, key);
    source = std::move(*text);
    bos = token_text(file, gguf::keys::kTokenizerBosId);
    eos = token_text(file, gguf::keys::kTokenizerEosId);
    return Status::ok();
}

Status run_render(const TemplateArgs& a) {
    std::string source, bos, eos;
    RF_RETURN_IF_ERROR(load_template(a, source, bos, eos));
    RF_ASSIGN_OR_RETURN(chat::ChatTemplate tmpl, chat::ChatTemplate::parse(std::move(source)));

    // Messages: a JSON array, or an object with "messages" (and optionally "tools").
    RF_ASSIGN_OR_RETURN(nlohmann::ordered_json doc, read_json(a.messages_path));
    nlohmann::ordered_json messages = doc;
    chat::RenderOptions options;
    if (doc.is_object()) {
        if (!doc.contains("messages")) return error("'{}': expected an array of messages", a.messages_path);
        messages = doc["messages"];
        if (doc.contains("tools")) options.tools = doc["tools"];
    }
    if (!messages.is_array()) return error("'{}': messages must be a JSON array", a.messages_path);
    if (!a.tools_path.empty()) {
        RF_ASSIGN_OR_RETURN(options.tools, read_json(a.tools_path));
    }
    if (!a.vars_path.empty()) {
        RF_ASSIGN_OR_RETURN(options.extra_context, read_json(a.vars_path));
        if (!options.extra_context.is_object()) return error("'{}': expected a JSON object", a.vars_path);
    }
    options.add_generation_prompt = a.add_generation_prompt;
    options.bos_token = a.bos_token.value_or(bos);
    options.eos_token = a.eos_token.value_or(eos);
    options.now_unix = a.now;
    if (!options.now_unix) {
        if (const char* env = std::getenv("RF_TEMPLATE_NOW"); env != nullptr && *env != '\0') {
            char* end = nullptr;
            const long long v = std::strtoll(env, &end, 10);
            if (*end != '\0') return error("RF_TEMPLATE_NOW must be seconds since the epoch, not '{}'", env);
            options.now_unix = v;
        }
    }
    RF_ASSIGN_OR_RETURN(std::string text, tmpl.render(messages, options));
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
        return error("cannot write the rendered prompt to stdout");
    }
    return Status::ok();
}

}  // namespace

void register_template(CLI::App& root, CommandContext& ctx) {
    auto* cmd = root.add_subcommand("template", "Chat templates: render a conversation as the model's prompt");
    cmd->require_subcommand(1);
    auto* render = cmd->add_subcommand("render", "Print the rendered prompt exactly (no newline added)");
    auto args = std::make_shared<TemplateArgs>();
    render->add_option("--template", args->template_path, "Jinja chat template file");
    render->add_option("-m,--model", args->model, "GGUF model: use its tokenizer.chat_template and BOS/EOS");
    render->add_option("--template-name", args->template_name, "Named template of the model (e.g. tool_use)");
    render->add_option("--messages", args->messages_path, "JSON array of messages")->required();
    render->add_flag("--add-generation-prompt", args->add_generation_prompt, "End with the assistant turn opener");
    render->add_option("--bos-token", args->bos_token, "BOS token text (default: the model's, or empty)");
    render->add_option("--eos-token", args->eos_token, "EOS token text (default: the model's, or empty)");
    render->add_option("--tools", args->tools_path, "JSON array of tool schemas");
    render->add_option("--vars", args->vars_path, "JSON object of extra template variables");
    render->add_option("--now", args->now, "Fix strftime_now to these seconds since the epoch (UTC)");
    render->callback([args, &ctx] {
        const Status s = run_render(*args);
        ctx.exit_code = s.is_ok() ? 0 : report_error(s);
    });
}

}  // namespace rf::cli
