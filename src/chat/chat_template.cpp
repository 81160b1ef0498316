// ChatTemplate: parsing once, and the render context HF builds (messages, tools, documents,
// add_generation_prompt, bos/eos tokens, extra keyword arguments).
#include "chat/chat_template.h"

#include <algorithm>

#include "chat/parser.h"

namespace rf::chat {

Result<ChatTemplate> ChatTemplate::parse(std::string source) {
    RF_ASSIGN_OR_RETURN(Program program, parse_template(source));
    ChatTemplate t;
    t.source_ = std::move(source);
    t.program_ = std::make_shared<const Program>(std::move(program));
    return t;
}

Result<std::string> ChatTemplate::render(const nlohmann::ordered_json& messages, const RenderOptions& options) const {
    if (!messages.is_array()) return rf::error("messages must be a JSON array");
    if (!options.extra_context.is_null() && !options.extra_context.is_object()) {
        return rf::error("extra template variables must be a JSON object");
    }
    std::vector<std::pair<std::string, Value>> context;
    RF_ASSIGN_OR_RETURN(Value msgs, from_json(messages));
    context.emplace_back("messages", std::move(msgs));
    RF_ASSIGN_OR_RETURN(Value tools, from_json(options.tools));
    context.emplace_back("tools", std::move(tools));
    context.emplace_back("documents", Value::none());
    context.emplace_back("add_generation_prompt", Value::boolean(options.add_generation_prompt));
    context.emplace_back("bos_token", Value::string(options.bos_token));
    context.emplace_back("eos_token", Value::string(options.eos_token));
    if (options.extra_context.is_object()) {
        for (auto entry = options.extra_context.begin(); entry != options.extra_context.end(); ++entry) {
            const std::string& key = entry.key();
            RF_ASSIGN_OR_RETURN(Value v, from_json(entry.value()));
            auto it = std::find_if(context.begin(), context.end(), [&key](const auto& kv) { return kv.first == key; });
            if (it != context.end()) {
                it->second = std::move(v);
            } else {
                context.emplace_back(key, std::move(v));
            }
        }
    }
    Interpreter interpreter(*program_, options.limits, options.now_unix);
    return interpreter.render(std::move(context));
}

Result<std::string> ChatTemplate::render(const nlohmann::json& messages, const RenderOptions& options) const {
    return render(nlohmann::ordered_json(messages), options);
}

}  // namespace rf::chat
