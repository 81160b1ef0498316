// The GPU implementation of engine::Backend (CUDA or HIP, one source), plus device discovery.
// Host-only header: callers need no GPU toolkit to include it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/backend.h"

namespace rf::gpu {

struct DeviceInfo {
    int index = 0;
    std::string name;
    std::string platform;    // "CUDA" or "HIP"
    std::string arch;        // "sm_90", "gfx90a", ...
    uint64_t total_bytes = 0;
    uint64_t free_bytes = 0;
    int warp_size = 32;
    int multiprocessors = 0;
};

// Devices the runtime reports; an error (with the runtime's reason) when none is usable.
Result<std::vector<DeviceInfo>> list_devices();

// Device-to-device copy bandwidth of GPU `index` in GB/s, counting bytes read plus bytes written
// (the ceiling that decode's weight streaming is compared with). Takes about a tenth of a second.
Result<double> copy_bandwidth(int index);

// A backend on device `index`. Errors (no device, init failure) are returned, never fatal,
// so callers can fall back to the CPU.
Result<std::unique_ptr<engine::Backend>> create_backend(int index);

}  // namespace rf::gpu
