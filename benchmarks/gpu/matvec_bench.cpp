// GPU decode mat-vec benchmark: LLaMA-2-7B layer shapes, 8 layers of weights per pass so nothing
// stays in L2, achieved GB/s against a device-to-device copy measured in the same run.
//   gpu_matvec_bench [n_tokens]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_matrix.h"
#include "backend/gpu/matvec.h"
#include "quant/reference.h"

namespace {

using rf::quant::GgmlType;

struct Shape {
    const char* name;
    int64_t n_rows;
    int64_t n_cols;
};
// One LLaMA-2-7B layer: q, k, v, o (4096 x 4096), gate, up (11008 x 4096), down (4096 x 11008).
constexpr Shape kLayer[] = {{"attn_q", 4096, 4096},  {"attn_k", 4096, 4096}, {"attn_v", 4096, 4096},
                            {"attn_o", 4096, 4096},  {"ffn_gate", 11008, 4096}, {"ffn_up", 11008, 4096},
                            {"ffn_down", 4096, 11008}};
constexpr int kLayers = 8;

// Median of `reps` timings (ms) of fn(), after warm-up.
template <typename Fn>
double time_median_ms(Fn fn, int reps, gpuStream_t stream = nullptr) {
    gpuEvent_t start, stop;
    RF_GPU_CHECK(gpuEventCreate(&start));
    RF_GPU_CHECK(gpuEventCreate(&stop));
    for (int i = 0; i < 3; ++i) fn();
    std::vector<float> ms;
    for (int i = 0; i < reps; ++i) {
        RF_GPU_CHECK(gpuEventRecord(start, stream));
        fn();
        RF_GPU_CHECK(gpuEventRecord(stop, stream));
        RF_GPU_CHECK(gpuEventSynchronize(stop));
        float t = 0;
        RF_GPU_CHECK(gpuEventElapsedTime(&t, start, stop));
        ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    RF_GPU_CHECK(gpuEventDestroy(start));
    RF_GPU_CHECK(gpuEventDestroy(stop));
    return static_cast<double>(ms[ms.size() / 2]);
}

double copy_bandwidth_gbs() {
    const size_t bytes = size_t{2} << 30;
    void *a, *b;
    RF_GPU_CHECK(gpuMalloc(&a, bytes));
    RF_GPU_CHECK(gpuMalloc(&b, bytes));
    RF_GPU_CHECK(gpuMemset(a, 1, bytes));
    const double ms = time_median_ms([&] { RF_GPU_CHECK(gpuMemcpyAsync(b, a, bytes, gpuMemcpyDeviceToDevice, nullptr)); }, 10);
    RF_GPU_CHECK(gpuFree(a));
    RF_GPU_CHECK(gpuFree(b));
    return 2.0 * static_cast<double>(bytes) / (ms * 1e-3) / 1e9;  // read + write
}

struct Uploaded {
    rf::gpu::DeviceMatrix m;
    size_t bytes = 0;  // bytes the kernel must read (packed weights + scales)
};

Uploaded upload(GgmlType type, const Shape& s, std::mt19937& rng) {
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> row(static_cast<size_t>(s.n_cols));
    const size_t rb = rf::quant::row_bytes(type, static_cast<size_t>(s.n_cols));
    std::vector<uint8_t> q(rb * static_cast<size_t>(s.n_rows));
    // Quantize a few distinct rows and tile them: keeps set-up fast, the data is still random.
    constexpr int kDistinct = 64;
    for (int r = 0; r < kDistinct; ++r) {
        for (float& v : row) v = normal(rng);
        rf::quant::quantize_row(type, row.data(), q.data() + r * rb, s.n_cols);
    }
    for (int64_t r = kDistinct; r < s.n_rows; ++r) std::copy_n(q.data() + (r % kDistinct) * rb, rb, q.data() + r * rb);
    auto packed = rf::gpu::pack_matrix(type, q.data(), s.n_rows, s.n_cols);
    if (!packed.is_ok()) {
        std::fprintf(stderr, "%s\n", packed.message().c_str());
        std::exit(1);
    }
    Uploaded u;
    uint8_t* d_qs;
    RF_GPU_CHECK(gpuMalloc(&d_qs, packed->qs.size()));
    RF_GPU_CHECK(gpuMemcpy(d_qs, packed->qs.data(), packed->qs.size(), gpuMemcpyHostToDevice));
    uint16_t* d_scales = nullptr;
    if (!packed->scales.empty()) {
        RF_GPU_CHECK(gpuMalloc(&d_scales, packed->scales.size() * 2));
        RF_GPU_CHECK(gpuMemcpy(d_scales, packed->scales.data(), packed->scales.size() * 2, gpuMemcpyHostToDevice));
    }
    u.m = {type, s.n_rows, s.n_cols, d_qs, d_scales, packed->qs_row_bytes, packed->scale_row_count};
    u.bytes = packed->qs.size() + packed->scales.size() * 2;
    return u;
}

}  // namespace

int main(int argc, char** argv) {
    const int n_tokens = argc > 1 ? std::atoi(argv[1]) : 1;
    gpuDeviceProp prop{};
    RF_GPU_CHECK(gpuGetDeviceProperties(&prop, 0));
    const double copy_gbs = copy_bandwidth_gbs();
    std::printf("device: %s, warp %d, copy bandwidth %.0f GB/s (read+write)\n", prop.name, prop.warpSize, copy_gbs);
    std::printf("Each pass: quantize activations + mat-vec for 8 layers of weights, launched as one graph.\n");
    std::printf("| type | tokens | bytes/pass (MB) | time/pass (us) | GB/s | %% of copy | est. 7B layers-only t/s |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    gpuStream_t stream;
    RF_GPU_CHECK(gpuStreamCreate(&stream));

    std::mt19937 rng(42);
    float *d_x, *d_y;
    RF_GPU_CHECK(gpuMalloc(&d_x, sizeof(float) * 11008 * n_tokens));
    RF_GPU_CHECK(gpuMalloc(&d_y, sizeof(float) * 11008 * n_tokens));
    std::vector<float> hx(static_cast<size_t>(11008 * n_tokens));
    for (float& v : hx) v = std::normal_distribution<float>(0.0f, 1.0f)(rng);
    RF_GPU_CHECK(gpuMemcpy(d_x, hx.data(), hx.size() * 4, gpuMemcpyHostToDevice));
    rf::gpu::QuantizedActs acts;
    acts.n_cols_padded = rf::gpu::padded_act_cols(11008);
    RF_GPU_CHECK(gpuMalloc(&acts.qs, acts.n_cols_padded * n_tokens));
    RF_GPU_CHECK(gpuMalloc(&acts.ds, acts.n_cols_padded / 32 * n_tokens * sizeof(float2)));

    for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_K, GgmlType::kQ6_K, GgmlType::kQ8_0, GgmlType::kF16}) {
        std::vector<Uploaded> mats;
        size_t total = 0;
        for (int l = 0; l < kLayers; ++l) {
            for (const Shape& s : kLayer) {
                mats.push_back(upload(type, s, rng));
                total += mats.back().bytes;
            }
        }
        auto pass = [&] {
            for (const Uploaded& u : mats) {
                // Activations are requantized per matrix input, as in a real forward pass.
                rf::gpu::QuantizedActs a = acts;
                a.n_cols_padded = rf::gpu::padded_act_cols(u.m.n_cols);
                if (type != GgmlType::kF16) rf::gpu::quantize_acts(d_x, u.m.n_cols, n_tokens, a, stream);
                rf::gpu::matvec(u.m, a, d_x, n_tokens, d_y, prop.warpSize, stream);
            }
        };
        // Captured once, replayed: measures the kernels, not the host's launch rate.
        gpuGraph_t graph;
        gpuGraphExec_t exec;
        RF_GPU_CHECK(gpuStreamBeginCapture(stream));
        pass();
        RF_GPU_CHECK(gpuStreamEndCapture(stream, &graph));
        RF_GPU_CHECK(gpuGraphInstantiate(&exec, graph));
        const double ms = time_median_ms([&] { RF_GPU_CHECK(gpuGraphLaunch(exec, stream)); }, 20, stream);
        RF_GPU_CHECK(gpuGraphExecDestroy(exec));
        RF_GPU_CHECK(gpuGraphDestroy(graph));
        const double gbs = static_cast<double>(total) / (ms * 1e-3) / 1e9;
        const double tps = 1e3 / (ms / kLayers * 32);
        std::printf("| %s | %d | %.1f | %.1f | %.0f | %.0f%% | %.0f |\n", rf::quant::traits(type).name.data(), n_tokens,
                    static_cast<double>(total) / 1e6, ms * 1e3, gbs, 100.0 * gbs / copy_gbs, tps * n_tokens);
        for (const Uploaded& u : mats) {
            RF_GPU_CHECK(gpuFree(const_cast<uint8_t*>(u.m.qs)));
            if (u.m.scales) RF_GPU_CHECK(gpuFree(const_cast<uint16_t*>(u.m.scales)));
        }
    }
    return 0;
}
