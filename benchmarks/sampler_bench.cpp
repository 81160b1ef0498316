// Host cost of drawing one token, per sampling setting, from a whole logits row (what the CPU
// backend and the whole-row GPU readout pay per token) and from a top-k readout of it (what the
// GPU's top-logits readout leaves to the host). Rows are model-like: a normal spread with a few
// strong candidates. Arguments: vocabulary size.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "sampling/sampler.h"
#include "sampling/top_logits.h"

namespace {

using rf::sampling::Sampler;
using rf::sampling::SamplerParams;
using rf::sampling::TokenLogit;

std::vector<float> model_like_row(int64_t n_vocab) {
    std::mt19937 rng(42);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    std::vector<float> row(static_cast<size_t>(n_vocab));
    for (float& x : row) x = normal(rng);
    for (int i = 0; i < 8; ++i) row[rng() % row.size()] = 12.0f + static_cast<float>(i);
    return row;
}

SamplerParams setting(int which) {
    SamplerParams p;  // defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05
    p.seed = 1;
    if (which == 0) p.temperature = 0.0f;  // greedy
    if (which == 2) p.top_k = 0;           // top-p and min-p over the whole row
    if (which == 3) p.repeat_penalty = 1.1f;
    return p;
}

const char* setting_name(int which) {
    static const char* names[] = {"greedy", "defaults", "top_k_off", "defaults_penalty"};
    return names[which];
}

void BM_SampleWholeRow(benchmark::State& state) {
    const auto row = model_like_row(state.range(0));
    const int which = static_cast<int>(state.range(1));
    Sampler sampler(setting(which));
    const std::vector<int32_t> history(64, 7);
    for (auto _ : state) benchmark::DoNotOptimize(sampler.sample(row, history));
    state.SetLabel(setting_name(which));
}
BENCHMARK(BM_SampleWholeRow)->ArgsProduct({{32000, 151936}, {0, 1, 2, 3}})->Unit(benchmark::kMicrosecond);

// The host's share with the top-logits readout: the changes list, then the draw from k pairs.
void BM_SampleReadout(benchmark::State& state) {
    const int64_t n_vocab = state.range(0);
    const auto row = model_like_row(n_vocab);
    const int which = static_cast<int>(state.range(1));
    Sampler sampler(setting(which));
    const int32_t k = sampler.top_logits_needed(static_cast<int32_t>(n_vocab), false);
    std::vector<TokenLogit> top(static_cast<size_t>(k));
    rf::sampling::select_top_logits(row, top);
    const std::vector<int32_t> history(64, 7);
    std::vector<rf::sampling::LogitAdjust> adjust;
    for (auto _ : state) {
        adjust.clear();
        sampler.logit_adjustments(history, static_cast<int32_t>(n_vocab), 0, adjust);
        benchmark::DoNotOptimize(sampler.sample_top(top));
    }
    state.SetLabel(setting_name(which));
}
BENCHMARK(BM_SampleReadout)->ArgsProduct({{32000, 151936}, {0, 1, 3}})->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
