// The generation loop: cached-prefix reuse, chunked prefill, then sample -> detokenize ->
// stop-string hold-back -> stream, one decode step per token.
#include "engine/generate.h"

#include <algorithm>
#include <chrono>

#include "core/check.h"
#include "sampling/stop_string_matcher.h"

namespace rf::engine {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

bool cancelled(const GenerateParams& p) {
    return p.cancel != nullptr && p.cancel->load(std::memory_order_relaxed);
}

// Feeds prompt[begin..] in steps of n_batch tokens; returns the last position's logits.
Result<std::span<const float>> prefill(Context& ctx, std::span<const int32_t> prompt, size_t begin,
                                       const GenerateParams& p, bool& was_cancelled) {
    Batch batch;
    std::span<const float> logits;
    const int32_t seq = p.seq_id;
    for (size_t i = begin; i < prompt.size();) {
        if (cancelled(p)) {
            was_cancelled = true;
            return logits;
        }
        batch.clear();
        const size_t end = std::min(prompt.size(), i + static_cast<size_t>(ctx.n_batch()));
        for (size_t j = i; j < end; ++j) {
            batch.add(prompt[j], seq, static_cast<int32_t>(j), j + 1 == prompt.size());
        }
        RF_ASSIGN_OR_RETURN(logits, ctx.decode(batch));
        i = end;
    }
    return logits;
}

}  // namespace

const char* finish_reason_name(FinishReason reason) {
    switch (reason) {
        case FinishReason::kLength: return "length";
        case FinishReason::kContext: return "context";
        case FinishReason::kStop: return "stop";
        case FinishReason::kEog: return "eog";
        case FinishReason::kCancelled: return "cancelled";
    }
    return "?";
}

Result<GenerateResult> generate(Context& ctx, const tok::Tokenizer& tokenizer,
                                std::span<const int32_t> prompt, const GenerateParams& p) {
    RF_CHECK_MSG(static_cast<bool>(p.sample), "generate() needs a sample function");
    if (prompt.empty()) return error("the prompt is empty (no tokens)");
    if (static_cast<int64_t>(prompt.size()) >= ctx.n_ctx()) {
        return error("the prompt is {} tokens but the context holds {} (raise --ctx-size or shorten "
                     "the prompt)", prompt.size(), ctx.n_ctx());
    }
    GenerateResult result;
    result.n_prompt = static_cast<int32_t>(prompt.size());

    // Reuse the cached common prefix; at least the last prompt token is recomputed for logits.
    auto cached = ctx.seq_tokens(p.seq_id);
    size_t common = 0;
    while (common < cached.size() && common < prompt.size() && cached[common] == prompt[common]) ++common;
    common = std::min(common, prompt.size() - 1);
    ctx.truncate(p.seq_id, static_cast<int32_t>(common));
    result.n_prompt_cached = static_cast<int32_t>(common);

    const auto t_prompt = Clock::now();
    bool was_cancelled = false;
    RF_ASSIGN_OR_RETURN(std::span<const float> logits, prefill(ctx, prompt, common, p, was_cancelled));
    result.prompt_seconds = seconds_since(t_prompt);
    if (was_cancelled) {
        result.finish = FinishReason::kCancelled;
        return result;
    }

    const auto t_gen = Clock::now();
    tok::StreamingDecoder decoder(tokenizer);
    sampling::StopStringMatcher matcher(p.stop);
    auto emit = [&](const std::string& text) {
        if (text.empty()) return true;
        result.text += text;
        return !p.on_text || p.on_text(text);
    };
    Batch batch;
    result.finish = FinishReason::kLength;
    for (int32_t n = 0;; ++n) {
        if (cancelled(p)) {
            result.finish = FinishReason::kCancelled;
            break;
        }
        if (p.max_tokens >= 0 && n >= p.max_tokens) break;
        const int32_t token = p.sample(logits, ctx.seq_tokens(p.seq_id));
        if (tokenizer.is_eog(token)) {
            result.finish = FinishReason::kEog;
            break;
        }
        result.tokens.push_back(token);
        const auto pushed = matcher.push(decoder.push(token));
        if (!emit(pushed.text)) {
            result.finish = FinishReason::kCancelled;
            break;
        }
        if (pushed.stopped) {
            result.finish = FinishReason::kStop;
            break;
        }
        const int32_t pos = static_cast<int32_t>(ctx.seq_tokens(p.seq_id).size());
        if (pos >= ctx.n_ctx()) {
            result.finish = FinishReason::kContext;
            break;
        }
        batch.clear();
        batch.add(token, p.seq_id, pos, true);
        RF_ASSIGN_OR_RETURN(logits, ctx.decode(batch));
    }
    if (result.finish != FinishReason::kStop && result.finish != FinishReason::kCancelled) {
        const auto tail = matcher.push(decoder.flush());
        if (!tail.stopped) emit(tail.text + matcher.flush());
        else {
            emit(tail.text);
            result.finish = FinishReason::kStop;
        }
    }
    result.gen_seconds = seconds_since(t_gen);
    return result;
}

}  // namespace rf::engine
