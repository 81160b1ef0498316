// CPU matmul micro-benchmarks on TinyLlama-1.1B shapes: mat-vec (decode, GB/s of weight bytes
// streamed from DRAM: weights are rotated through copies much larger than the last-level
// cache), prefill of 128 tokens (GFLOP/s), and all the matmuls of one decode step of the whole
// model (tokens/s upper bound for decode). Threads: RF_BENCH_THREADS (default 2). Kernels: the
// best for this CPU, or RF_CPU_ISA=generic|avx2|avxvnni|avx512.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/matmul.h"
#include "backend/cpu/vec_dot.h"
#include "core/cpu_features.h"
#include "quant/reference.h"
#include "quant/types.h"

namespace {

using rf::quant::GgmlType;

constexpr double kStreamingReadGBs = 22.0;     // measured 2-thread streaming read (PERFORMANCE.md)
constexpr size_t kRotationBytes = 256u << 20;  // > 8x the 32 MiB L3

rf::ThreadPool& pool() {
    static rf::ThreadPool p([] {
        const char* env = std::getenv("RF_BENCH_THREADS");
        return env != nullptr ? std::max(1, std::atoi(env)) : 2;
    }());
    return p;
}

// n_rows x n_cols weights of `type`: 64 rows quantized by the reference from Gaussian floats
// (realistic scales, no denormals), tiled over the matrix.
std::vector<uint8_t> make_weights(GgmlType type, int64_t n_rows, int64_t n_cols, uint32_t seed) {
    const size_t row_bytes = rf::quant::row_bytes(type, static_cast<size_t>(n_cols));
    const int64_t distinct = std::min<int64_t>(64, n_rows);
    std::vector<uint8_t> seed_rows(row_bytes * static_cast<size_t>(distinct));
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> row(static_cast<size_t>(n_cols));
    for (int64_t r = 0; r < distinct; ++r) {
        for (float& v : row) v = normal(rng);
        rf::quant::quantize_row(type, row.data(), seed_rows.data() + r * row_bytes, n_cols);
    }
    std::vector<uint8_t> out(row_bytes * static_cast<size_t>(n_rows));
    for (int64_t r = 0; r < n_rows; ++r) {
        std::copy_n(seed_rows.data() + (r % distinct) * row_bytes, row_bytes,
                    out.data() + r * row_bytes);
    }
    return out;
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng);
    return v;
}

// A weight matrix in row layout, and packed for matmul when `packed` and the type allows it.
struct Weight {
    GgmlType type;
    int64_t n_rows, n_cols;
    std::vector<uint8_t> bytes;
    rf::cpu::MatrixView view;
};

Weight make_weight(GgmlType type, int64_t n_rows, int64_t n_cols, uint32_t seed, bool packed) {
    Weight w{type, n_rows, n_cols, make_weights(type, n_rows, n_cols, seed), {}};
    const size_t row_bytes = rf::quant::row_bytes(type, static_cast<size_t>(n_cols));
    w.view = {type, w.bytes.data(), n_cols, n_rows, row_bytes};
    if (packed && rf::cpu::can_pack_weights(type)) {
        std::vector<uint8_t> out(w.bytes.size());
        w.view = rf::cpu::pack_weights(w.view, out.data(), pool());
        w.bytes.swap(out);  // the view points into the moved-from buffer's storage
        w.view.data = w.bytes.data();
    }
    return w;
}

// y = x W^T for n_tokens tokens. `rotate`: cycle through copies of W much larger than the caches
// (DRAM streaming, as in decode); otherwise W stays cache-resident (the kernel's compute ceiling).
void bm_matmul(benchmark::State& state, GgmlType type, int64_t n_rows, int64_t n_cols,
               int64_t n_tokens, bool rotate, bool packed) {
    const size_t bytes =
        rf::quant::row_bytes(type, static_cast<size_t>(n_cols)) * static_cast<size_t>(n_rows);
    const size_t copies = rotate ? std::max<size_t>(2, (kRotationBytes + bytes - 1) / bytes) : 1;
    std::vector<Weight> weights;
    for (size_t c = 0; c < copies; ++c) {
        weights.push_back(make_weight(type, n_rows, n_cols, 7 + static_cast<uint32_t>(c), packed));
    }
    const std::vector<float> x = random_floats(static_cast<size_t>(n_tokens * n_cols), 3);
    std::vector<float> y(static_cast<size_t>(n_tokens * n_rows));
    size_t next = 0;
    for (auto _ : state) {
        rf::cpu::matmul(weights[next].view, x.data(), n_tokens, y.data(), pool());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
        next = (next + 1) % copies;
    }
    const double iters = static_cast<double>(state.iterations());
    state.counters["GB/s"] =
        benchmark::Counter(static_cast<double>(bytes) * iters / 1e9, benchmark::Counter::kIsRate);
    state.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * static_cast<double>(n_rows * n_cols * n_tokens) * iters / 1e9,
                           benchmark::Counter::kIsRate);
    if (n_tokens > 1) {
        state.counters["tok/s"] =
            benchmark::Counter(static_cast<double>(n_tokens) * iters, benchmark::Counter::kIsRate);
    }
}

// TinyLlama-1.1B: n_embd 2048, n_ff 5632, 22 layers, 4 KV heads of 64, vocab 32000.
struct LayerShape {
    const char* name;
    int64_t n_rows, n_cols;
};
constexpr LayerShape kLayer[] = {{"attn_q", 2048, 2048},   {"attn_k", 256, 2048},
                                 {"attn_v", 256, 2048},    {"attn_output", 2048, 2048},
                                 {"ffn_gate", 5632, 2048}, {"ffn_up", 5632, 2048},
                                 {"ffn_down", 2048, 5632}};
constexpr int kLayers = 22;

// A Q4_K_M-like mix: attn_v and ffn_down get Q6_K in the first and last eighth of the layers and
// every third layer between, the output matrix Q6_K (as llama.cpp's Q4_K_M recipe).
GgmlType tensor_type(GgmlType base, bool k_m_mix, const char* name, int il) {
    if (!k_m_mix) return base;
    const std::string n = name;
    if (n == "output") return GgmlType::kQ6_K;
    const bool more_bits = il < kLayers / 8 || il >= 7 * kLayers / 8 || (il - kLayers / 8) % 3 == 2;
    if ((n == "attn_v" || n == "ffn_down") && more_bits) return GgmlType::kQ6_K;
    return base;
}

// Every matmul of one decode step (22 layers + output), each on its own weights: the matmul
// share of a decode token, streaming the whole model from DRAM.
void bm_decode_model(benchmark::State& state, GgmlType base, bool k_m_mix, bool packed) {
    std::vector<Weight> tensors;
    size_t total = 0;
    uint32_t seed = 11;
    for (int il = 0; il < kLayers; ++il) {
        for (const LayerShape& s : kLayer) {
            const GgmlType type = tensor_type(base, k_m_mix, s.name, il);
            tensors.push_back(make_weight(type, s.n_rows, s.n_cols, seed++, packed));
            total += tensors.back().bytes.size();
        }
    }
    const GgmlType out_type = tensor_type(base, k_m_mix, "output", 0);
    tensors.push_back(make_weight(out_type, 32000, 2048, seed++, packed));
    total += tensors.back().bytes.size();
    const std::vector<float> x = random_floats(5632, 5);
    std::vector<float> y(32000);
    for (auto _ : state) {
        for (const Weight& t : tensors) rf::cpu::matmul(t.view, x.data(), 1, y.data(), pool());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    const double iters = static_cast<double>(state.iterations());
    state.counters["tok/s"] = benchmark::Counter(iters, benchmark::Counter::kIsRate);
    state.counters["GB/s"] =
        benchmark::Counter(static_cast<double>(total) * iters / 1e9, benchmark::Counter::kIsRate);
    state.counters["model_MB"] = static_cast<double>(total) / 1e6;
}

void register_all() {
    const GgmlType matvec_types[] = {GgmlType::kQ4_0, GgmlType::kQ4_K, GgmlType::kQ8_0,
                                     GgmlType::kQ6_K, GgmlType::kF16};
    // Named n_cols x n_rows (input features x output features): q/o, gate/up, down, output.
    const int64_t matvec_shapes[][2] = {{2048, 2048}, {2048, 5632}, {5632, 2048}, {2048, 32000}};
    for (bool packed : {false, true}) {
        const std::string layout = packed ? "packed" : "rows";
        for (GgmlType type : matvec_types) {
            if (packed && !rf::cpu::can_pack_weights(type)) continue;
            const std::string tn = std::string(rf::quant::traits(type).name) + "/" + layout;
            for (const auto& s : matvec_shapes) {
                const std::string shape = std::to_string(s[0]) + "x" + std::to_string(s[1]);
                benchmark::RegisterBenchmark(("matvec/" + tn + "/" + shape).c_str(), bm_matmul,
                                             type, s[1], s[0], 1, true, packed)
                    ->Unit(benchmark::kMicrosecond)
                    ->UseRealTime()
                    ->MinTime(0.5);
            }
            // 128 rows stay in L2: the kernel's compute ceiling per thread.
            benchmark::RegisterBenchmark(("matvec_cached/" + tn + "/2048x128").c_str(), bm_matmul,
                                         type, 128, 2048, 1, false, packed)
                ->Unit(benchmark::kMicrosecond)
                ->UseRealTime()
                ->MinTime(0.5);
            for (const auto& s :
                 {std::array<int64_t, 2>{2048, 5632}, std::array<int64_t, 2>{5632, 2048}}) {
                const std::string shape = std::to_string(s[0]) + "x" + std::to_string(s[1]);
                benchmark::RegisterBenchmark(("prefill128/" + tn + "/" + shape).c_str(), bm_matmul,
                                             type, s[1], s[0], 128, false, packed)
                    ->Unit(benchmark::kMillisecond)
                    ->UseRealTime()
                    ->MinTime(0.5);
            }
        }
        for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ8_0, GgmlType::kQ4_K}) {
            const bool mix = type == GgmlType::kQ4_K;
            const std::string name = std::string("decode_model/tinyllama_") +
                                     (mix ? "q4_K_M" : std::string(rf::quant::traits(type).name)) +
                                     "/" + layout;
            benchmark::RegisterBenchmark(name.c_str(), bm_decode_model, type, mix, packed)
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime()
                ->MinTime(1.0);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    register_all();
    benchmark::AddCustomContext("cpu_features", rf::cpu_features().to_string());
    benchmark::AddCustomContext("kernels", rf::cpu::isa_name(rf::cpu::best_kernel_table().isa));
    benchmark::AddCustomContext("threads", std::to_string(pool().size()));
    benchmark::AddCustomContext("streaming_read_GB/s", std::to_string(kStreamingReadGBs));
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
