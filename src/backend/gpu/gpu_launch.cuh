// Kernel launches with programmatic dependent launch (PDL) where the device has it (NVIDIA
// compute capability 9.0+): a kernel's thread blocks are scheduled while the previous kernel's
// last blocks still run, hiding the launch gap between the small kernels of a decode step. Every
// kernel starts with wait_for_predecessor(), which returns once the previous kernel has finished
// and its writes are visible, so no kernel touches memory early. HIP and older GPUs launch
// plainly (the wait is then a no-op).
#pragma once

#include <utility>

#include "backend/gpu/gpu_check.h"
#include "backend/gpu/ops.h"

namespace rf::gpu {

// The first statement of every kernel.
__device__ __forceinline__ void wait_for_predecessor() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// kernel<<<grid, block, smem, stream>>>(args...), as a dependent launch when enabled.
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, gpuStream_t stream, Args&&... args) {
#if !defined(RF_GPU_HIP)
    if (dependent_launch_enabled()) {
        cudaLaunchAttribute attr{};
        attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
        attr.val.programmaticStreamSerializationAllowed = 1;
        cudaLaunchConfig_t config{};
        config.gridDim = grid;
        config.blockDim = block;
        config.dynamicSmemBytes = smem;
        config.stream = stream;
        config.attrs = &attr;
        config.numAttrs = 1;
        RF_GPU_CHECK(cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...));
        return;
    }
#endif
    kernel<<<grid, block, smem, stream>>>(std::forward<Args>(args)...);
    RF_GPU_CHECK_LAUNCH();
}

}  // namespace rf::gpu
