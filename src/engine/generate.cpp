// The generation loop: cached-prefix reuse, chunked prefill, then sample -> detokenize ->
// stop-string hold-back -> stream, one decode step per token.
#include "engine/generate.h"

#include <algorithm>
#include <chrono>
#include <vector>

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

// Runs `batch`, whose last token is the only one wanting logits, and draws the next token.
// `history` is the sequence's tokens after the batch. The draw reads the top-logits readout where
// the sampler's settings allow (a GPU then copies back a few candidates, not the row).
Result<int32_t> decode_and_sample(Context& ctx, const Batch& batch, std::span<const int32_t> history,
                                  sampling::Sampler& sampler, std::vector<sampling::LogitAdjust>& adjust) {
    const int32_t k = sampler.top_logits_needed(ctx.n_vocab(), /*with_logprobs=*/false);
    if (k > 0) {
        adjust.clear();
        sampler.logit_adjustments(history, ctx.n_vocab(), 0, adjust);
        RF_ASSIGN_OR_RETURN(std::span<const sampling::TokenLogit> top, ctx.decode_top(batch, k, adjust));
        return sampler.sample_top(top);
    }
    RF_ASSIGN_OR_RETURN(std::span<const float> logits, ctx.decode(batch));
    return sampler.sample(logits, history);
}

// Feeds prompt[begin..] in steps of n_batch tokens and draws the first token from the last
// position. Returns -1 when cancelled in between.
Result<int32_t> prefill(Context& ctx, std::span<const int32_t> prompt, size_t begin, const GenerateParams& p,
                        std::vector<sampling::LogitAdjust>& adjust) {
    Batch batch;
    const int32_t seq = p.seq_id;
    for (size_t i = begin;;) {
        if (cancelled(p)) return -1;
        batch.clear();
        const size_t end = std::min(prompt.size(), i + static_cast<size_t>(ctx.n_batch()));
        for (size_t j = i; j < end; ++j) {
            batch.add(prompt[j], seq, static_cast<int32_t>(j), j + 1 == prompt.size());
        }
        if (end == prompt.size()) return decode_and_sample(ctx, batch, prompt, *p.sampler, adjust);
        RF_RETURN_IF_ERROR(ctx.decode(batch).status());
        i = end;
    }
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
    RF_CHECK_MSG(p.sampler != nullptr, "generate() needs a sampler");
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

    std::vector<sampling::LogitAdjust> adjust;
    const auto t_prompt = Clock::now();
    RF_ASSIGN_OR_RETURN(int32_t token, prefill(ctx, prompt, common, p, adjust));
    result.prompt_seconds = seconds_since(t_prompt);
    if (token < 0) {
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
    std::vector<int32_t> history(prompt.begin(), prompt.end());  // the sequence's tokens, as penalties see them
    Batch batch;
    result.finish = FinishReason::kLength;
    for (int32_t n = 0;; ++n) {
        if (cancelled(p)) {
            result.finish = FinishReason::kCancelled;
            break;
        }
        if (p.max_tokens >= 0 && n >= p.max_tokens) break;
        if (n > 0) {
            // Feed the token drawn last and draw the next one.
            batch.clear();
            batch.add(history.back(), p.seq_id, static_cast<int32_t>(history.size()) - 1, true);
            RF_ASSIGN_OR_RETURN(token, decode_and_sample(ctx, batch, history, *p.sampler, adjust));
        }
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
        if (static_cast<int32_t>(history.size()) >= ctx.n_ctx()) {  // no position left for it
            result.finish = FinishReason::kContext;
            break;
        }
        history.push_back(token);
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
