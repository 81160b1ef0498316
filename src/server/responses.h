// OpenAI response bodies: completions and chat completions, whole or as SSE chunks, with usage,
// finish_reason and logprobs in the shapes the official clients parse.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/generate.h"
#include "sampling/sampler.h"
#include "server/api_error.h"
#include "tokenizer/tokenizer.h"

namespace rf::server {

struct ResponseMeta {
    std::string id;       // "cmpl-..." or "chatcmpl-..."
    std::string model;
    int64_t created = 0;  // unix seconds
    bool chat = false;
};

// One generated token's log-probabilities.
struct TokenLogprobs {
    int32_t token = -1;
    float logprob = 0.0f;
    std::vector<sampling::TokenLogprob> top;
};

// Everything one choice produced (accumulated for a whole response).
struct ChoiceResult {
    std::string text;
    std::vector<TokenLogprobs> logprobs;
    engine::FinishReason finish = engine::FinishReason::kLength;
    bool finished = false;
    std::string error;  // non-empty when the engine failed the sequence
};

struct Usage {
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;
    int64_t cached_tokens = 0;
};

// A random id such as "chatcmpl-3f9a..." (24 hex digits).
std::string make_response_id(std::string_view prefix);
// "stop" for stop strings and end-of-generation tokens, "length" for max_tokens or the context.
const char* finish_reason_text(engine::FinishReason reason);

Json usage_json(const Usage& usage);
// Logprobs of `tokens` in the completions shape (tokens / token_logprobs / top_logprobs /
// text_offset) or the chat shape (content: [{token, logprob, bytes, top_logprobs}]).
Json logprobs_json(bool chat, const tok::Tokenizer& tokenizer, std::span<const TokenLogprobs> tokens,
                   size_t text_offset);

// The whole (non-streamed) response.
Json full_response(const ResponseMeta& meta, const std::vector<ChoiceResult>& choices,
                   const Usage& usage, const tok::Tokenizer& tokenizer, bool with_logprobs);

// One streamed chunk for choice `index`. Chat: `role_delta` sends the assistant role first;
// `finish` (nullable) ends the choice. `logprobs` is null or a logprobs_json() value.
Json stream_chunk(const ResponseMeta& meta, int32_t index, std::string_view text, bool role_delta,
                  const char* finish, Json logprobs, bool include_usage);
// The final usage chunk of stream_options.include_usage (empty choices).
Json usage_chunk(const ResponseMeta& meta, const Usage& usage);

// "data: <json>\n\n"
std::string sse_event(const Json& j);

}  // namespace rf::server
