// Whether kernels are launched as programmatic dependent launches (gpu_launch.cuh).
#include <atomic>

#include "backend/gpu/ops.h"

namespace rf::gpu {
namespace {
std::atomic<bool> g_dependent_launch{false};
}  // namespace

void set_dependent_launch(bool enabled) { g_dependent_launch.store(enabled, std::memory_order_relaxed); }
bool dependent_launch_enabled() { return g_dependent_launch.load(std::memory_order_relaxed); }

}  // namespace rf::gpu
