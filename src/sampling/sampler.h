// Turns one row of logits into a token: logit bias, penalties, truncation (top-k, typical, top-p,
// min-p), temperature and a seeded draw, in llama.cpp's default chain order.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

#include "sampling/top_logits.h"

namespace rf::sampling {

// Seed value meaning "draw a fresh seed from std::random_device" (llama.cpp uses the same value).
inline constexpr uint64_t kRandomSeed = 0xFFFFFFFFu;

// Every knob of the sampling chain. Defaults leave a knob disabled, except temperature.
struct SamplerParams {
    float temperature = 0.8f;    // <= 0: greedy (argmax of the penalised, biased logits)
    int32_t top_k = 40;          // <= 0 or >= n_vocab: disabled
    float top_p = 0.95f;         // >= 1: disabled; 0 keeps only the most likely token
    float min_p = 0.05f;         // <= 0: disabled; keeps p >= min_p * p_max
    float typical_p = 1.0f;      // >= 1: disabled (locally typical sampling)
    float repeat_penalty = 1.0f; // 1: disabled; divides positive / multiplies negative logits
    float presence_penalty = 0.0f;   // subtracted once from every token in the window
    float frequency_penalty = 0.0f;  // subtracted count times from every token in the window
    int32_t penalty_last_n = 64;     // window of history for penalties; 0: off, < 0: whole history
    std::unordered_map<int32_t, float> logit_bias;  // added to the logit; -inf bans a token
    int32_t min_keep = 1;            // truncation steps never keep fewer candidates than this
    uint64_t seed = kRandomSeed;     // same seed + same inputs -> same token sequence
};

// One entry of a logprobs report.
struct TokenLogprob {
    int32_t id = -1;
    float logprob = 0.0f;  // natural log of the probability
};

// Optional output of sample(): the chosen token's log-probability and the top-N tokens of the
// final distribution (after truncation and temperature), most likely first. For greedy decoding
// the distribution reported is the softmax of the penalised, biased logits at temperature 1, since
// the greedy distribution itself is a single spike.
struct SampleLogprobs {
    float chosen_logprob = 0.0f;
    std::vector<TokenLogprob> top;
};

// Holds the random state and scratch buffers; reusing one Sampler per sequence means the hot
// path allocates only when the vocabulary grows. Not thread-safe: one per sequence.
class Sampler {
public:
    explicit Sampler(SamplerParams params);

    // logits: [n_vocab] of the position being sampled. history: the sequence's previous token ids
    // (prompt and generated), oldest first, used only for the penalties. Returns a token id in
    // [0, n_vocab). NaN logits count as -inf; if every logit is -inf or NaN, returns 0.
    int32_t sample(std::span<const float> logits, std::span<const int32_t> history);
    // As above, and fills `logprobs` with the top `n_logprobs` entries (when non-null).
    int32_t sample(std::span<const float> logits, std::span<const int32_t> history,
                   int32_t n_logprobs, SampleLogprobs* logprobs);

    // Sampling from a device's top-logits readout (top_logits.h) instead of the whole row, with
    // the same result: a device applies logit_adjustments() to the row, selects its
    // top_logits_needed() largest logits and sample_top() draws from them.
    //
    // How many of a row's largest adjusted logits decide the next draw (and its logprobs when
    // `with_logprobs`): 1 for greedy, top-k's k (at least min_keep); 0 when the whole row is
    // needed (top-k off, >= n_vocab or over kMaxTopLogits; greedy logprobs, which are over the
    // whole vocabulary).
    int32_t top_logits_needed(int32_t n_vocab, bool with_logprobs) const;
    // Appends the logit bias and penalty changes for output row `row` (one entry per token
    // touched), given the sequence's history as sample() takes it.
    void logit_adjustments(std::span<const int32_t> history, int32_t n_vocab, int32_t row,
                           std::vector<LogitAdjust>& out);
    // Draws from `top`: at least top_logits_needed() of the row's largest adjusted logits, in any
    // order. Logprobs as sample() reports them.
    int32_t sample_top(std::span<const TokenLogit> top, int32_t n_logprobs = 0, SampleLogprobs* logprobs = nullptr);

    const SamplerParams& params() const { return params_; }
    // Restarts the random sequence (e.g. a new request reusing this sampler).
    void reseed(uint64_t seed);

private:
    using Candidate = TokenLogit;
    // A candidate (at `pos` in candidates_) ranked by `key` (smaller first) with its probability.
    struct MassItem {
        double key;
        double prob;
        uint32_t pos;
    };

    void load_candidates(std::span<const float> logits);
    bool penalties_active() const;
    // Truncation, temperature and the draw over the loaded, adjusted candidates.
    int32_t run_chain(int32_t n_logprobs, SampleLogprobs* logprobs);
    void apply_top_k(int32_t k);
    void apply_typical(float p);
    void apply_top_p(float p);
    void apply_min_p(float p);
    // Sorts candidates by logit, descending, at least over the first `count` entries.
    void sort_prefix(size_t count);
    // Partitions items_ so that items_[0, cut) is the smallest-key set whose probability mass
    // reaches `target` (exceeds it when `strict`), at least min_keep items; returns cut.
    size_t select_mass(double target, bool strict);
    // Keeps the candidates of items_[0, count), in that order.
    void keep_items(size_t count);
    // Softmax of candidates at temperature `temp` into probs_; returns false when all are -inf.
    bool softmax(float temp);
    int32_t draw();
    int32_t argmax() const;
    void report_logprobs(float temp, int32_t chosen, int32_t n, SampleLogprobs* out);
    size_t keep_floor() const;

    SamplerParams params_;
    std::mt19937_64 rng_;
    std::vector<Candidate> candidates_;  // [n_candidates] surviving tokens
    size_t sorted_prefix_ = 0;           // candidates_[0, sorted_prefix_) sorted descending, and
                                         // every later logit <= candidates_[sorted_prefix_-1]
    std::vector<float> probs_;           // [n_candidates] softmax scratch
    std::vector<int32_t> window_;        // penalty window scratch
    std::vector<LogitAdjust> adjust_;    // sample()'s own bias and penalty changes
    std::vector<MassItem> items_;        // top-p / typical scratch: one per candidate
    std::vector<Candidate> scratch_;     // kept candidates being gathered
};

}  // namespace rf::sampling
