// Public API of the chat-template engine: parse `tokenizer.chat_template` once, then render
// conversations exactly as Python jinja2 does in Hugging Face's environment.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/interpreter.h"
#include "core/status.h"

namespace rf::chat {

struct Program;

// What HF's apply_chat_template passes besides `messages`.
struct RenderOptions {
    bool add_generation_prompt = false;
    std::string bos_token;
    std::string eos_token;
    // Tool schemas; null renders `tools` as None, as HF does when no tools are given.
    nlohmann::ordered_json tools;
    // More template variables (enable_thinking, documents, date_string, ...): an object or null.
    nlohmann::ordered_json extra_context;
    // Fixes the clock of strftime_now (seconds since the epoch, read as UTC) for reproducible
    // prompts; unset uses the current local time like HF.
    std::optional<int64_t> now_unix;
    Limits limits;
};

class ChatTemplate {
public:
    // Parses (and fully checks the syntax of) a template.
    static Result<ChatTemplate> parse(std::string source);

    // Renders `messages` (a JSON array of {"role", "content", ...} objects). Object keys keep
    // their order, which `tojson` output depends on; prefer this overload.
    Result<std::string> render(const nlohmann::ordered_json& messages, const RenderOptions& options) const;
    // Convenience for nlohmann::json callers; note nlohmann::json sorts object keys.
    Result<std::string> render(const nlohmann::json& messages, const RenderOptions& options) const;

    const std::string& source() const { return source_; }

private:
    std::string source_;
    std::shared_ptr<const Program> program_;
};

}  // namespace rf::chat
