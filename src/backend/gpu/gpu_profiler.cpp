// Per-op GPU timing (see gpu_profiler.h).
#include "backend/gpu/gpu_profiler.h"

#include <algorithm>
#include <cstdlib>

#include "backend/gpu/gpu_check.h"

namespace rf::gpu {

GpuProfiler::GpuProfiler(gpuStream_t stream) : stream_(stream) {
    const char* env = std::getenv("ROCMFORGE_GPU_PROFILE");
    enabled_ = env != nullptr && env[0] != '\0' && env[0] != '0';
}

GpuProfiler::~GpuProfiler() {
    for (const Pending& p : pending_) {
        (void)gpuEventDestroy(p.start);
        (void)gpuEventDestroy(p.stop);
    }
    for (gpuEvent_t e : free_events_) (void)gpuEventDestroy(e);
}

gpuEvent_t GpuProfiler::take_event() {
    if (!free_events_.empty()) {
        gpuEvent_t e = free_events_.back();
        free_events_.pop_back();
        return e;
    }
    gpuEvent_t e;
    RF_GPU_CHECK(gpuEventCreate(&e));
    return e;
}

void GpuProfiler::begin(const std::string& label) {
    Pending p{label, take_event(), take_event()};
    RF_GPU_CHECK(gpuEventRecord(p.start, stream_));
    open_.push_back(pending_.size());
    pending_.push_back(std::move(p));
}

void GpuProfiler::end() {
    RF_GPU_CHECK(gpuEventRecord(pending_[open_.back()].stop, stream_));
    open_.pop_back();
}

void GpuProfiler::collect() {
    if (!open_.empty()) return;  // called inside an op (e.g. a mid-op synchronisation)
    for (Pending& p : pending_) {
        float ms = 0.0f;
        RF_GPU_CHECK(gpuEventSynchronize(p.stop));
        RF_GPU_CHECK(gpuEventElapsedTime(&ms, p.start, p.stop));
        Total& t = totals_[p.label];
        ++t.calls;
        t.ms += static_cast<double>(ms);
        free_events_.push_back(p.start);
        free_events_.push_back(p.stop);
    }
    pending_.clear();
}

void GpuProfiler::print(std::FILE* out) {
    if (!enabled_) return;
    collect();
    std::vector<std::pair<std::string, Total>> rows(totals_.begin(), totals_.end());
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.second.ms > b.second.ms; });
    double all = 0.0;
    for (const auto& r : rows) all += r.second.ms;
    std::fprintf(out, "GPU op profile (events around each op, graphs off): %.1f ms in all\n", all);
    std::fprintf(out, "%-48s %8s %10s %9s %6s\n", "op", "calls", "total ms", "mean us", "%");
    for (const auto& [label, t] : rows) {
        std::fprintf(out, "%-48s %8ld %10.2f %9.2f %6.1f\n", label.c_str(), t.calls, t.ms,
                     1000.0 * t.ms / static_cast<double>(t.calls), 100.0 * t.ms / all);
    }
}

}  // namespace rf::gpu
