// OpenAI request bodies -> what the scheduler runs: prompts as token ids plus the generation and
// sampling settings, validated field by field (wrong types and ranges are 400s naming the field).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/scheduler.h"
#include "server/api_error.h"
#include "server/serving_model.h"

namespace rf::server {

inline constexpr int32_t kMaxChoices = 64;       // `n`
inline constexpr size_t kMaxPrompts = 64;        // prompts in one completions request
inline constexpr size_t kMaxStops = 16;
inline constexpr size_t kMaxStopBytes = 512;
inline constexpr int32_t kMaxTopLogprobs = 20;

struct GenerationRequest {
    bool chat = false;
    std::string model;
    std::vector<std::vector<int32_t>> prompts;  // token ids; chat requests have exactly one
    int32_t n = 1;                              // choices per prompt
    bool stream = false;
    bool include_usage = false;                 // stream_options.include_usage
    int32_t logprobs = -1;                      // top entries per token; < 0: no logprobs
    std::optional<uint64_t> seed;
    engine::SequenceParams params;              // everything but the prompt
};

// /v1/completions (chat = false) or /v1/chat/completions (chat = true).
std::optional<ApiError> parse_generation_request(const Json& body, const ServingModel& model,
                                                 bool chat, GenerationRequest& out);

// The scheduler's sequences for a parsed request: prompt-major, `n` choices per prompt; a given
// seed is offset by the choice index so choices differ but stay reproducible.
std::vector<engine::SequenceParams> make_sequences(const GenerationRequest& request);

}  // namespace rf::server
