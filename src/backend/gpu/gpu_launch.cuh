// Kernel launches with programmatic dependent launch (PDL) where the device has it (NVIDIA
// compute capability 9.0+): a kernel's thread blocks are scheduled while the previous kernel still
// runs, hiding the launch gap between the small kernels of a decode step. Every kernel lets the
// next one launch and waits for the previous one before it touches memory that kernels write
// (wait_for_predecessor). HIP and older GPUs launch plainly (the calls are then no-ops).
#pragma once

#include <utility>

#include "backend/gpu/gpu_check.h"
#include "backend/gpu/ops.h"

namespace rf::gpu {

// Lets the next kernel launch as soon as every block of this one has got here: its blocks then
// take free slots and run up to their own wait (a mat-vec loads its first weights there while a
// small kernel before it still runs).
__device__ __forceinline__ void launch_next_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Returns once the previous kernel has finished and its writes are visible. Before it a kernel
// may read only what no kernel of the step writes: model weights and the step's host-uploaded
// arrays (kernels further back may still be running).
__device__ __forceinline__ void wait_for_previous_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

// Both, in that order: the first statement of a kernel that reads nothing before the wait.
__device__ __forceinline__ void wait_for_predecessor() {
    launch_next_kernel();
    wait_for_previous_kernel();
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
