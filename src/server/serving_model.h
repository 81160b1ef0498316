// What the HTTP layer serves: one loaded model's identity, tokenizer, chat template and the
// scheduler that runs its sequences. Published to the HTTP threads once loading is done.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "chat/chat_template.h"
#include "engine/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace rf::server {

struct ServingModel {
    std::string id;                            // the model name /v1/models reports
    int64_t created = 0;                       // unix seconds when the model was loaded
    const tok::Tokenizer* tokenizer = nullptr;
    engine::Scheduler* scheduler = nullptr;
    std::optional<chat::ChatTemplate> chat_template;  // the file's, or the ChatML fallback
    bool chat_template_is_fallback = false;
    std::string bos_text;  // the template's bos_token / eos_token variables
    std::string eos_text;
};

// Fills the template fields from the GGUF's tokenizer.chat_template (empty: ChatML fallback).
// An unparsable template is an error naming the problem.
Status load_chat_template(ServingModel& model, const std::string& source);

}  // namespace rf::server
