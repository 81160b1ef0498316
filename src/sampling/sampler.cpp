// The sampling chain. Candidates start index-aligned with the logits (bias and penalties index them
// directly); truncation steps then shrink and partially sort them, never sorting all of a 128k
// vocabulary unless a step needs it (typical-p).
#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "core/check.h"

namespace rf::sampling {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// ranks_before as a function object, so the sorts inline it.
constexpr auto kRanksBefore = [](const TokenLogit& a, const TokenLogit& b) { return ranks_before(a, b); };

}  // namespace

Sampler::Sampler(SamplerParams params) : params_(std::move(params)) { reseed(params_.seed); }

void Sampler::reseed(uint64_t seed) {
    if (seed == kRandomSeed) {
        std::random_device device;
        seed = (static_cast<uint64_t>(device()) << 32) ^ device();
    }
    rng_.seed(seed);
}

size_t Sampler::keep_floor() const { return static_cast<size_t>(std::max(1, params_.min_keep)); }

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
    return sample(logits, history, 0, nullptr);
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history,
                        int32_t n_logprobs, SampleLogprobs* logprobs) {
    RF_CHECK_MSG(!logits.empty(), "sample() needs at least one logit");
    load_candidates(logits);
    // llama.cpp's default chain: logit bias -> penalties -> top-k -> typical -> top-p -> min-p ->
    // temperature -> draw. Bias first so a banned token (-inf) stays banned under penalties.
    adjust_.clear();
    logit_adjustments(history, static_cast<int32_t>(logits.size()), 0, adjust_);
    for (const LogitAdjust& a : adjust_) {
        Candidate& c = candidates_[static_cast<size_t>(a.id)];
        c.logit = adjusted_logit(c.logit, a);
    }
    return run_chain(n_logprobs, logprobs);
}

int32_t Sampler::sample_top(std::span<const TokenLogit> top, int32_t n_logprobs, SampleLogprobs* logprobs) {
    RF_CHECK_MSG(!top.empty(), "sample_top() needs at least one candidate");
    candidates_.resize(top.size());
    for (size_t i = 0; i < top.size(); ++i) {
        candidates_[i] = {top[i].id, std::isnan(top[i].logit) ? kNegInf : top[i].logit};
    }
    // The order the whole-row chain leaves after top-k, so every later step sees the same list.
    std::sort(candidates_.begin(), candidates_.end(), kRanksBefore);
    sorted_prefix_ = candidates_.size();
    return run_chain(n_logprobs, logprobs);
}

int32_t Sampler::run_chain(int32_t n_logprobs, SampleLogprobs* logprobs) {
    if (params_.temperature <= 0.0f) {
        // Greedy: truncation never removes the maximum, so it can be skipped entirely.
        const int32_t token = argmax();
        if (logprobs != nullptr) report_logprobs(1.0f, token, n_logprobs, logprobs);
        return token;
    }
    apply_top_k(params_.top_k);
    apply_typical(params_.typical_p);
    apply_top_p(params_.top_p);
    apply_min_p(params_.min_p);
    const int32_t token = draw();
    if (logprobs != nullptr) report_logprobs(params_.temperature, token, n_logprobs, logprobs);
    return token;
}

int32_t Sampler::top_logits_needed(int32_t n_vocab, bool with_logprobs) const {
    if (params_.temperature <= 0.0f) return with_logprobs ? 0 : 1;
    if (params_.top_k <= 0) return 0;
    // After top-k every step of the chain sees only the kept candidates.
    const auto keep = static_cast<int64_t>(std::max(static_cast<size_t>(params_.top_k), keep_floor()));
    return keep < n_vocab && keep <= kMaxTopLogits ? static_cast<int32_t>(keep) : 0;
}

void Sampler::load_candidates(std::span<const float> logits) {
    candidates_.resize(logits.size());
    for (size_t i = 0; i < logits.size(); ++i) {
        const float logit = logits[i];
        candidates_[i] = {static_cast<int32_t>(i), std::isnan(logit) ? kNegInf : logit};
    }
    sorted_prefix_ = 0;
}

bool Sampler::penalties_active() const {
    return params_.penalty_last_n != 0 && (params_.repeat_penalty != 1.0f || params_.presence_penalty != 0.0f ||
                                           params_.frequency_penalty != 0.0f);
}

void Sampler::logit_adjustments(std::span<const int32_t> history, int32_t n_vocab, int32_t row,
                                std::vector<LogitAdjust>& out) {
    // Penalties: one entry per distinct token of the window, in id order.
    const size_t first = out.size();
    if (penalties_active() && !history.empty()) {
        size_t window = history.size();
        if (params_.penalty_last_n > 0) window = std::min(window, static_cast<size_t>(params_.penalty_last_n));
        // Count occurrences by sorting a copy of the window: the window is small, the vocab is not.
        window_.assign(history.end() - static_cast<std::ptrdiff_t>(window), history.end());
        std::sort(window_.begin(), window_.end());
        for (size_t i = 0; i < window_.size();) {
            size_t j = i;
            while (j < window_.size() && window_[j] == window_[i]) ++j;
            const int32_t id = window_[i];
            const auto count = static_cast<float>(j - i);
            i = j;
            if (id < 0 || id >= n_vocab) continue;
            out.push_back({row, id, 0.0f, params_.repeat_penalty,
                           count * params_.frequency_penalty + params_.presence_penalty});
        }
    }
    // Bias: merged into the token's penalty entry (it applies first) or an entry of its own.
    const auto n_penalised = static_cast<std::ptrdiff_t>(out.size() - first);
    for (const auto& [id, bias] : params_.logit_bias) {
        if (id < 0 || id >= n_vocab || std::isnan(bias)) continue;
        const auto begin = out.begin() + static_cast<std::ptrdiff_t>(first);  // push_back moves them
        const auto end = begin + n_penalised;
        const auto it = std::lower_bound(begin, end, id, [](const LogitAdjust& a, int32_t v) { return a.id < v; });
        if (it != end && it->id == id) {
            it->bias = bias;
        } else {
            out.push_back({row, id, bias, 1.0f, 0.0f});
        }
    }
}

void Sampler::sort_prefix(size_t count) {
    count = std::min(count, candidates_.size());
    if (count <= sorted_prefix_) return;
    // Valid because every element after the sorted prefix is <= its last element. Selection
    // then a sort of the selected part: O(n + k log k).
    const auto first = candidates_.begin() + static_cast<std::ptrdiff_t>(sorted_prefix_);
    const auto nth = candidates_.begin() + static_cast<std::ptrdiff_t>(count);
    if (nth != candidates_.end()) std::nth_element(first, nth, candidates_.end(), kRanksBefore);
    std::sort(first, nth, kRanksBefore);
    sorted_prefix_ = count;
}

void Sampler::apply_top_k(int32_t k) {
    if (k <= 0) return;
    const size_t keep = std::max(static_cast<size_t>(k), keep_floor());
    if (keep >= candidates_.size()) return;
    if (keep > 256 || sorted_prefix_ > 0) {
        sort_prefix(keep);
        candidates_.resize(keep);
        return;
    }
    // Small k: one pass with a heap of the best `keep` (front = the worst of them); nearly every
    // token fails the single comparison against the front, so this is about n comparisons.
    scratch_.clear();
    for (const Candidate& c : candidates_) {
        if (scratch_.size() < keep) {
            scratch_.push_back(c);
            std::push_heap(scratch_.begin(), scratch_.end(), kRanksBefore);
        } else if (ranks_before(c, scratch_.front())) {
            std::pop_heap(scratch_.begin(), scratch_.end(), kRanksBefore);
            scratch_.back() = c;
            std::push_heap(scratch_.begin(), scratch_.end(), kRanksBefore);
        }
    }
    std::sort(scratch_.begin(), scratch_.end(), kRanksBefore);
    candidates_.swap(scratch_);
    sorted_prefix_ = candidates_.size();
}

size_t Sampler::select_mass(double target, bool strict) {
    // Quickselect on accumulated probability: items_[0, lo) are taken (mass `taken`, short of the
    // target), the cut lies in [lo, hi). Each round splits [lo, hi) three ways around a pivot key
    // and keeps only the part holding the cut: expected O(n), no full sort of a large vocabulary.
    auto reached = [&](double mass) { return strict ? mass > target : mass >= target; };
    auto key_less = [](const MassItem& a, const MassItem& b) { return a.key < b.key || (a.key == b.key && a.pos < b.pos); };
    size_t lo = 0, hi = items_.size(), cut = items_.size();
    double taken = 0.0;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const double a = items_[lo].key, b = items_[mid].key, c = items_[hi - 1].key;
        const double pivot = std::max(std::min(a, b), std::min(std::max(a, b), c));
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            if (items_[i].key < pivot) {
                std::swap(items_[lt++], items_[i++]);
            } else if (items_[i].key > pivot) {
                std::swap(items_[i], items_[--gt]);
            } else {
                ++i;
            }
        }
        double below = 0.0;
        for (size_t j = lo; j < lt; ++j) below += items_[j].prob;
        if (lt > lo && reached(taken + below)) {
            hi = lt;
            continue;
        }
        taken += below;
        // Equal keys are taken in position order, so ties resolve the same way every time.
        std::sort(items_.begin() + static_cast<std::ptrdiff_t>(lt), items_.begin() + static_cast<std::ptrdiff_t>(gt), key_less);
        bool found = false;
        for (size_t j = lt; j < gt && !found; ++j) {
            taken += items_[j].prob;
            if (reached(taken)) {
                cut = j + 1;
                found = true;
            }
        }
        if (found) break;
        lo = gt;
    }
    const size_t floor = std::min(keep_floor(), items_.size());
    if (cut < floor) {
        std::nth_element(items_.begin() + static_cast<std::ptrdiff_t>(cut),
                         items_.begin() + static_cast<std::ptrdiff_t>(floor - 1), items_.end(), key_less);
        cut = floor;
    }
    return cut;
}

void Sampler::keep_items(size_t count) {
    scratch_.resize(count);
    for (size_t i = 0; i < count; ++i) scratch_[i] = candidates_[items_[i].pos];
    candidates_.swap(scratch_);
    sorted_prefix_ = 0;
}

void Sampler::apply_typical(float p) {
    if (p >= 1.0f || candidates_.size() <= 1) return;
    if (!softmax(1.0f)) return;
    // Entropy H of the distribution; a token is "typical" when -log p is close to H. Keep the
    // tokens closest to it until their mass exceeds p.
    double entropy = 0.0;
    for (const float prob : probs_) {
        if (prob > 0.0f) entropy -= static_cast<double>(prob) * std::log(static_cast<double>(prob));
    }
    items_.resize(candidates_.size());
    for (size_t i = 0; i < candidates_.size(); ++i) {
        const double prob = static_cast<double>(probs_[i]);
        const double distance = prob > 0.0 ? std::abs(-std::log(prob) - entropy) : std::numeric_limits<double>::infinity();
        items_[i] = {distance, prob, static_cast<uint32_t>(i)};
    }
    keep_items(select_mass(static_cast<double>(p), true));
}

void Sampler::apply_top_p(float p) {
    if (p >= 1.0f || candidates_.size() <= 1) return;
    float max_logit = kNegInf;
    for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.logit);
    if (max_logit == kNegInf) return;
    // The smallest set of most likely tokens whose mass reaches p. After top-k the candidates are
    // few and sorted: walk them. Otherwise select by mass without sorting the vocabulary.
    items_.resize(candidates_.size());
    double total = 0.0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
        const double w = std::exp(static_cast<double>(candidates_[i].logit - max_logit));
        items_[i] = {-static_cast<double>(candidates_[i].logit), w, static_cast<uint32_t>(i)};
        total += w;
    }
    for (MassItem& item : items_) item.prob /= total;
    if (sorted_prefix_ == candidates_.size()) {
        double cumulative = 0.0;
        for (size_t i = 0; i < items_.size(); ++i) {
            cumulative += items_[i].prob;
            if (cumulative >= static_cast<double>(p) && i + 1 >= keep_floor()) {
                candidates_.resize(i + 1);
                sorted_prefix_ = i + 1;
                return;
            }
        }
        return;
    }
    keep_items(select_mass(static_cast<double>(p), false));
}

void Sampler::apply_min_p(float p) {
    if (p <= 0.0f || candidates_.empty()) return;
    float max_logit = kNegInf;
    for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.logit);
    if (max_logit == kNegInf) return;
    // p_i >= p * p_max  <=>  logit_i >= max_logit + log(p).
    const float threshold = max_logit + std::log(p);
    size_t passing = 0;
    for (const Candidate& c : candidates_) passing += c.logit >= threshold ? 1 : 0;
    if (passing < keep_floor()) {
        sort_prefix(keep_floor());
        candidates_.resize(std::min(keep_floor(), candidates_.size()));
        return;
    }
    // Stable in-place filter: kept members of the sorted prefix stay sorted at the front.
    size_t out = 0;
    size_t new_prefix = 0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
        if (candidates_[i].logit < threshold) continue;
        if (i < sorted_prefix_) ++new_prefix;
        candidates_[out++] = candidates_[i];
    }
    candidates_.resize(out);
    sorted_prefix_ = new_prefix;
}

bool Sampler::softmax(float temp) {
    probs_.resize(candidates_.size());
    float max_logit = kNegInf;
    for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.logit);
    if (max_logit == kNegInf) return false;
    double total = 0.0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
        probs_[i] = std::exp((candidates_[i].logit - max_logit) / temp);
        total += static_cast<double>(probs_[i]);
    }
    const auto inv = static_cast<float>(1.0 / total);
    for (float& prob : probs_) prob *= inv;
    return true;
}

int32_t Sampler::argmax() const {
    size_t best = 0;
    for (size_t i = 1; i < candidates_.size(); ++i) {
        if (ranks_before(candidates_[i], candidates_[best])) best = i;
    }
    return candidates_[best].id;
}

int32_t Sampler::draw() {
    if (!softmax(params_.temperature)) return argmax();
    // 53 random bits -> uniform double in [0, 1); identical on every platform for one seed,
    // unlike std::uniform_real_distribution whose algorithm is implementation-defined.
    const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
    double cumulative = 0.0;
    size_t last_positive = 0;
    for (size_t i = 0; i < probs_.size(); ++i) {
        if (probs_[i] <= 0.0f) continue;
        cumulative += static_cast<double>(probs_[i]);
        last_positive = i;
        if (u < cumulative) return candidates_[i].id;
    }
    return candidates_[last_positive].id;  // rounding left u just above the total
}

void Sampler::report_logprobs(float temp, int32_t chosen, int32_t n, SampleLogprobs* out) {
    out->top.clear();
    float max_logit = kNegInf;
    for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.logit);
    if (max_logit == kNegInf) {
        out->chosen_logprob = kNegInf;
        return;
    }
    double total = 0.0;
    for (const Candidate& c : candidates_) total += std::exp(static_cast<double>((c.logit - max_logit) / temp));
    const double log_total = std::log(total);
    auto logprob_of = [&](float logit) {
        return static_cast<float>(static_cast<double>((logit - max_logit) / temp) - log_total);
    };
    out->chosen_logprob = kNegInf;
    for (const Candidate& c : candidates_) {
        if (c.id == chosen) out->chosen_logprob = logprob_of(c.logit);
    }
    const size_t count = std::min(static_cast<size_t>(std::max(n, 0)), candidates_.size());
    sort_prefix(count);  // the candidates are no longer needed after the draw
    for (size_t i = 0; i < count; ++i) {
        if (candidates_[i].logit == kNegInf) break;
        out->top.push_back({candidates_[i].id, logprob_of(candidates_[i].logit)});
    }
}

}  // namespace rf::sampling
