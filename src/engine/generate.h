// generate(): the prompt -> streamed text loop shared by the CLI commands (the server runs its
// own scheduler over Context::decode). Tokens are drawn with the caller's sampler, from the
// device's top-logits readout when its settings allow (Sampler::top_logits_needed).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "engine/context.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace rf::engine {

// Receives each piece of generated text (valid UTF-8, stop strings held back); false stops.
using TextFn = std::function<bool(std::string_view piece)>;

enum class FinishReason {
    kLength,     // max_tokens reached
    kContext,    // the sequence filled the context
    kStop,       // a stop string appeared (it is not part of the text)
    kEog,        // the model emitted an end-of-generation token
    kCancelled,  // the cancel flag was raised or the text callback returned false
};
const char* finish_reason_name(FinishReason reason);

struct GenerateParams {
    int32_t seq_id = 0;
    int32_t max_tokens = 128;  // < 0: until the context is full
    std::vector<std::string> stop;
    sampling::Sampler* sampler = nullptr;  // required
    TextFn on_text;            // optional streaming callback
    const std::atomic<bool>* cancel = nullptr;  // polled between forward steps
};

struct GenerateResult {
    std::string text;              // everything streamed, stop string excluded
    std::vector<int32_t> tokens;   // generated ids (the end-of-generation token excluded)
    FinishReason finish = FinishReason::kLength;
    int32_t n_prompt = 0;          // prompt tokens
    int32_t n_prompt_cached = 0;   // of which reused from the cache (common prefix)
    double prompt_seconds = 0.0;   // prefill time
    double gen_seconds = 0.0;      // time from the first sampled token to the end
};

// Runs `prompt` on params.seq_id (reusing the longest prefix already cached for that sequence)
// and samples until a stop condition. A prompt that does not fit the context is an error.
Result<GenerateResult> generate(Context& ctx, const tok::Tokenizer& tokenizer,
                                std::span<const int32_t> prompt, const GenerateParams& params);

}  // namespace rf::engine
