// Device probing and backend creation; GPU code is referenced only when the build has it.
#include "backend/select/device_select.h"

#include <charconv>

#include "backend/cpu/backend_cpu.h"
#include "core/log.h"
#if defined(RF_HAVE_GPU)
#include "backend/gpu/backend_gpu.h"
#endif

namespace rf::backend {

Result<DeviceOptions> parse_device(std::string_view text, DeviceOptions base) {
    if (text == "auto") {
        base.kind = DeviceKind::kAuto;
    } else if (text == "cpu") {
        base.kind = DeviceKind::kCpu;
    } else if (text == "gpu" || text == "cuda" || text == "hip") {
        base.kind = DeviceKind::kGpu;
    } else if (text.starts_with("gpu:")) {
        const std::string_view index = text.substr(4);
        int value = -1;
        const auto [end, ec] = std::from_chars(index.data(), index.data() + index.size(), value);
        if (ec != std::errc() || end != index.data() + index.size() || value < 0) {
            return error("--device: bad GPU index in '{}'", text);
        }
        base.kind = DeviceKind::kGpu;
        base.gpu_index = value;
    } else {
        return error("--device: expected auto, gpu, gpu:N or cpu, got '{}'", text);
    }
    return base;
}

bool gpu_compiled() {
#if defined(RF_HAVE_GPU)
    return true;
#else
    return false;
#endif
}

std::unique_ptr<engine::Backend> create_cpu_backend(int n_threads) {
    return std::make_unique<cpu::CpuBackend>(n_threads);
}

namespace {

Result<std::unique_ptr<engine::Backend>> try_gpu(const DeviceOptions& options) {
#if defined(RF_HAVE_GPU)
    return gpu::create_backend(options.gpu_index);
#else
    (void)options;
    return error("this build has no GPU backend (configure with the cuda or hip preset)");
#endif
}

}  // namespace

Result<std::unique_ptr<engine::Backend>> create_backend(const DeviceOptions& options) {
    if (options.kind == DeviceKind::kCpu) return create_cpu_backend(options.n_threads);
    auto gpu = try_gpu(options);
    if (gpu.is_ok()) {
        log::info("running on {}", gpu.value()->name());
        return gpu;
    }
    if (options.kind == DeviceKind::kGpu) return error("--device gpu: {}", gpu.message());
    log::info("no usable GPU ({}); running on the CPU", gpu.message());
    return create_cpu_backend(options.n_threads);
}

Result<uint64_t> gpu_free_bytes(int index) {
#if defined(RF_HAVE_GPU)
    RF_ASSIGN_OR_RETURN(std::vector<gpu::DeviceInfo> devices, gpu::list_devices());
    for (const gpu::DeviceInfo& d : devices) {
        if (d.index == index) return static_cast<uint64_t>(d.free_bytes);
    }
    return error("GPU {} does not exist ({} found)", index, devices.size());
#else
    (void)index;
    return error("this build has no GPU backend");
#endif
}

std::string describe_devices(bool measure_bandwidth) {
    std::string out;
#if defined(RF_HAVE_GPU)
    auto devices = gpu::list_devices();
    if (devices.is_ok()) {
        for (const gpu::DeviceInfo& d : devices.value()) {
            out += fmt::format("gpu:{}  {} {} ({}), {} MiB total, {} MiB free, warp {}, {} multiprocessors\n", d.index,
                               d.platform, d.name, d.arch, d.total_bytes >> 20, d.free_bytes >> 20, d.warp_size,
                               d.multiprocessors);
            if (measure_bandwidth) {
                auto bw = gpu::copy_bandwidth(d.index);
                if (bw.is_ok()) out += fmt::format("        device copy bandwidth {:.0f} GB/s (read + write)\n", bw.value());
            }
        }
    } else {
        out += fmt::format("no GPU: {}\n", devices.message());
    }
#else
    (void)measure_bandwidth;
    out += "no GPU backend in this build (configure with the cuda or hip preset)\n";
#endif
    out += "cpu    always available\n";
    return out;
}

}  // namespace rf::backend
