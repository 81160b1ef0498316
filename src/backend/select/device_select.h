// Device selection: --device auto|gpu|cpu -> the Backend to run on, with one log line saying why.
// The only place that knows every backend; models and the engine see just engine::Backend.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "engine/backend.h"

namespace rf::backend {

enum class DeviceKind { kAuto, kGpu, kCpu };

struct DeviceOptions {
    DeviceKind kind = DeviceKind::kAuto;
    int gpu_index = 0;  // which GPU when several are present
    int n_threads = 0;  // CPU threads (<= 0: one per hardware thread)
};

// "auto", "gpu" (also "cuda", "hip", "gpu:N") or "cpu".
Result<DeviceOptions> parse_device(std::string_view text, DeviceOptions base = {});

// True when this build has a GPU backend compiled in.
bool gpu_compiled();

// kAuto: the GPU when one is usable, else the CPU (logging the reason); kGpu: the GPU or an
// error; kCpu: the CPU.
Result<std::unique_ptr<engine::Backend>> create_backend(const DeviceOptions& options);

// A CPU backend (the fallback when a model does not fit the GPU).
std::unique_ptr<engine::Backend> create_cpu_backend(int n_threads);

// Free memory of GPU `index` in bytes (an error when there is no usable GPU).
Result<uint64_t> gpu_free_bytes(int index);

// Human-readable list of the devices found (for `--list-devices` and `inspect`).
// measure_bandwidth: also time a device-to-device copy on each GPU.
std::string describe_devices(bool measure_bandwidth = false);

}  // namespace rf::backend
