// Kernel launches with programmatic dependent launch (PDL) where the device has it (NVIDIA
// compute capability 9.0+): a kernel's thread blocks are scheduled while the previous kernel still
// runs, hiding the launch gap between the small kernels of a decode step. Every kernel calls
// wait_for_predecessor() before it touches memory the previous kernels write (it may read model
// weights, which never change, before): that lets the next kernel launch in turn and returns once
// the previous kernel has finished and its writes are visible. HIP and older GPUs launch plainly
// (the wait is then a no-op).
#pragma once

#include <utility>

#include "backend/gpu/gpu_check.h"
#include "backend/gpu/ops.h"

namespace rf::gpu {

// The next kernel may launch as soon as every block of this one has got here (its blocks then
// take free slots and run up to their own wait: a mat-vec loads its first weights there while a
// small kernel before it still runs); this one then waits for the previous kernel.
__device__ __forceinline__ void wait_for_predecessor() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
    asm volatile("griddepcontrol.wait;" ::: "memory");
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
