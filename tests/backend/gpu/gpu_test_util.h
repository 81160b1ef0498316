// Helpers for GPU tests: skip visibly without a device, the device's warp width, RAII device
// buffers.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "backend/gpu/gpu_check.h"

namespace rf::gpu::test {

inline bool have_gpu() {
    int count = 0;
    return gpuGetDeviceCount(&count) == gpuSuccess && count > 0;
}

// Warp (wavefront) width of device 0: 32 on NVIDIA and RDNA, 64 on CDNA.
inline int device_warp_size() {
    gpuDeviceProp prop{};
    RF_GPU_CHECK(gpuGetDeviceProperties(&prop, 0));
    return prop.warpSize;
}

#define RF_SKIP_WITHOUT_GPU()                                                   \
    do {                                                                        \
        if (!::rf::gpu::test::have_gpu()) GTEST_SKIP() << "no usable GPU found"; \
    } while (0)

// A device allocation of `count` T, optionally initialised from host data.
template <typename T>
class DeviceBuffer {
public:
    explicit DeviceBuffer(size_t count) : count_(count) { RF_GPU_CHECK(gpuMalloc(&ptr_, bytes())); }
    explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
        RF_GPU_CHECK(gpuMemcpy(ptr_, host.data(), bytes(), gpuMemcpyHostToDevice));
    }
    ~DeviceBuffer() { (void)gpuFree(ptr_); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    T* get() const { return ptr_; }
    size_t bytes() const { return count_ * sizeof(T); }
    std::vector<T> to_host() const {
        std::vector<T> host(count_);
        RF_GPU_CHECK(gpuMemcpy(host.data(), ptr_, bytes(), gpuMemcpyDeviceToHost));
        return host;
    }

private:
    T* ptr_ = nullptr;
    size_t count_;
};

}  // namespace rf::gpu::test
