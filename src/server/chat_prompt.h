// Chat requests -> prompt tokens: validates OpenAI `messages` (roles system / developer / user /
// assistant / tool, string or text-part content) and renders them with the model's template.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "server/api_error.h"
#include "server/serving_model.h"

namespace rf::server {

inline constexpr size_t kMaxMessages = 4096;

// Reads body["messages"], body["tools"] and body["chat_template_kwargs"]; on success `tokens`
// holds the rendered prompt, generation prompt included.
std::optional<ApiError> build_chat_prompt(const ServingModel& model, const Json& body,
                                          std::vector<int32_t>& tokens);

// The same checks and rendering, stopping at the text (tests, /tokenize-style tooling).
std::optional<ApiError> render_chat_text(const ServingModel& model, const Json& body,
                                         std::string& text);

}  // namespace rf::server
