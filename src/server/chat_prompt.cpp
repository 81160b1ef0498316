// Message validation, template rendering and prompt tokenization for /v1/chat/completions.
#include "server/chat_prompt.h"

#include <fmt/format.h>

#include "server/json_fields.h"

namespace rf::server {
namespace {

// Used when the model file carries no tokenizer.chat_template.
constexpr const char* kChatMlTemplate =
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

bool known_role(const std::string& role) {
    return role == "system" || role == "user" || role == "assistant" || role == "tool" ||
           role == "developer";
}

// Content as a plain string: a string stays, text parts are joined with newlines.
std::optional<ApiError> flatten_content(const Json& content, size_t i, Json& out) {
    const std::string param = fmt::format("messages[{}].content", i);
    if (content.is_string()) {
        out = content;
        return std::nullopt;
    }
    if (!content.is_array()) {
        return invalid_request(fmt::format("'{}' must be a string or an array of content parts, not {}",
                                           param, json_type_name(content)), param);
    }
    std::string text;
    size_t k = 0;
    for (const Json& part : content) {
        ++k;
        const Json* type = member(part, "type");
        if (type == nullptr || !type->is_string()) {
            return invalid_request(fmt::format("'{}[{}]' must be an object with a 'type'", param, k - 1), param);
        }
        if (*type != "text") {
            return invalid_request(fmt::format("content part type '{}' is not supported (only 'text')",
                                               type->get_ref<const std::string&>()), param);
        }
        const Json* t = member(part, "text");
        if (t == nullptr || !t->is_string()) {
            return invalid_request(fmt::format("'{}[{}].text' must be a string", param, k - 1), param);
        }
        if (!text.empty()) text += '\n';
        text += t->get_ref<const std::string&>();
    }
    out = std::move(text);
    return std::nullopt;
}

std::optional<ApiError> normalize_message(const Json& m, size_t i, Json& out) {
    const std::string where = fmt::format("messages[{}]", i);
    if (!m.is_object()) {
        return invalid_request(fmt::format("'{}' must be an object, not {}", where, json_type_name(m)),
                               "messages");
    }
    const Json* role = member(m, "role");
    if (role == nullptr || !role->is_string()) {
        return invalid_request(fmt::format("'{}.role' must be a string", where), where + ".role");
    }
    std::string r = role->get_ref<const std::string&>();
    if (!known_role(r)) {
        return invalid_request(fmt::format("'{}.role' is '{}'; expected system, developer, user, "
                                           "assistant or tool", where, r), where + ".role");
    }
    if (r == "developer") r = "system";
    out = Json::object();
    out["role"] = r;
    const Json* content = member(m, "content");
    const Json* tool_calls = member(m, "tool_calls");
    const bool has_tool_calls = tool_calls != nullptr && tool_calls->is_array();
    if (content == nullptr || content->is_null()) {
        if (!(r == "assistant" && has_tool_calls)) {
            return invalid_request(fmt::format("'{}.content' is required", where), where + ".content");
        }
        out["content"] = nullptr;
    } else {
        Json flat;
        if (auto e = flatten_content(*content, i, flat)) return e;
        out["content"] = std::move(flat);
    }
    // Other fields (name, tool_calls, tool_call_id ...) reach the template unchanged.
    for (auto it = m.begin(); it != m.end(); ++it) {
        if (it.key() != "role" && it.key() != "content") out[it.key()] = it.value();
    }
    return std::nullopt;
}

}  // namespace

Status load_chat_template(ServingModel& model, const std::string& source) {
    model.chat_template_is_fallback = source.empty();
    auto parsed = chat::ChatTemplate::parse(source.empty() ? std::string(kChatMlTemplate) : source);
    if (!parsed) return error("chat template: {}", parsed.message());
    model.chat_template.emplace(std::move(parsed).value());
    return Status::ok();
}

std::optional<ApiError> render_chat_text(const ServingModel& model, const Json& body,
                                         std::string& text) {
    const Json* messages = member(body, "messages");
    if (messages == nullptr || messages->is_null()) {
        return invalid_request("'messages' is required", "messages");
    }
    if (!messages->is_array() || messages->empty()) {
        return invalid_request("'messages' must be a non-empty array of messages", "messages");
    }
    if (messages->size() > kMaxMessages) {
        return invalid_request(fmt::format("'messages' holds more than {} messages", kMaxMessages),
                               "messages");
    }
    Json normalized = Json::array();
    size_t i = 0;
    for (const Json& message : *messages) {
        Json m;
        if (auto e = normalize_message(message, i++, m)) return e;
        normalized.push_back(std::move(m));
    }
    chat::RenderOptions options;
    options.add_generation_prompt = true;
    options.bos_token = model.bos_text;
    options.eos_token = model.eos_text;
    const Json* tools = member(body, "tools");
    if (tools != nullptr && !tools->is_null()) {
        if (!tools->is_array()) return invalid_request("'tools' must be an array", "tools");
        options.tools = *tools;
    }
    const Json* kwargs = member(body, "chat_template_kwargs");
    if (kwargs != nullptr && !kwargs->is_null()) {
        if (!kwargs->is_object()) {
            return invalid_request("'chat_template_kwargs' must be an object", "chat_template_kwargs");
        }
        options.extra_context = *kwargs;
    }
    auto rendered = model.chat_template->render(normalized, options);
    if (!rendered) {
        return invalid_request("the chat template could not render these messages: " +
                                   rendered.message(), "messages");
    }
    text = std::move(rendered).value();
    return std::nullopt;
}

std::optional<ApiError> build_chat_prompt(const ServingModel& model, const Json& body,
                                          std::vector<int32_t>& tokens) {
    std::string text;
    if (auto e = render_chat_text(model, body, text)) return e;
    const tok::Tokenizer& tk = *model.tokenizer;
    tokens = tk.encode(text, /*add_special=*/true, /*parse_special=*/true);
    // Templates usually write the BOS text themselves; keep a single BOS.
    if (tokens.size() >= 2 && tk.bos() >= 0 && tokens[0] == tk.bos() && tokens[1] == tk.bos()) {
        tokens.erase(tokens.begin());
    }
    return std::nullopt;
}

}  // namespace rf::server
