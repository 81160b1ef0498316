// Per-op GPU timing for finding where a step's time goes (ROCMFORGE_GPU_PROFILE=1): each backend
// op is bracketed by events on the stream, and a table of calls / total / mean per op label is
// printed when the backend is destroyed. Off by default; when off every call is a no-op.
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "backend/gpu/gpu_runtime.h"

namespace rf::gpu {

class GpuProfiler {
  public:
    explicit GpuProfiler(gpuStream_t stream);
    ~GpuProfiler();
    GpuProfiler(const GpuProfiler&) = delete;
    GpuProfiler& operator=(const GpuProfiler&) = delete;

    bool enabled() const { return enabled_; }
    // Brackets the work queued between begin() and end() under `label`; brackets may nest (an
    // op's time then also counts inside the enclosing one).
    void begin(const std::string& label);
    void end();
    // Reads the finished events (the stream must be idle) into the totals.
    void collect();
    void print(std::FILE* out);

  private:
    struct Pending {
        std::string label;
        gpuEvent_t start, stop;
    };
    struct Total {
        long calls = 0;
        double ms = 0.0;
    };
    gpuEvent_t take_event();

    gpuStream_t stream_;
    bool enabled_ = false;
    std::vector<Pending> pending_;
    std::vector<size_t> open_;  // indices in pending_ of the ops begun and not yet ended (nesting)
    std::vector<gpuEvent_t> free_events_;
    std::map<std::string, Total> totals_;
};

// Brackets one op when profiling: `ProfileScope s(profiler, [&] { return "label"; });`.
class ProfileScope {
  public:
    template <typename MakeLabel>
    ProfileScope(GpuProfiler& p, MakeLabel&& make_label) : p_(p.enabled() ? &p : nullptr) {
        if (p_ != nullptr) p_->begin(make_label());
    }
    ~ProfileScope() {
        if (p_ != nullptr) p_->end();
    }
    ProfileScope(const ProfileScope&) = delete;
    ProfileScope& operator=(const ProfileScope&) = delete;

  private:
    GpuProfiler* p_;
};

}  // namespace rf::gpu
