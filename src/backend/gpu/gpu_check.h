// Checking macros for GPU runtime calls and kernel launches (abort with file:line on failure).
#pragma once

#include <cstdio>
#include <cstdlib>

#include "backend/gpu/gpu_runtime.h"

#define RF_GPU_CHECK(call)                                                                    \
    do {                                                                                      \
        const gpuError_t rf_gpu_err_ = (call);                                                \
        if (rf_gpu_err_ != gpuSuccess) {                                                      \
            std::fprintf(stderr, "rocmforge: %s error at %s:%d: %s (%s)\n", RF_GPU_PLATFORM,  \
                         __FILE__, __LINE__, gpuGetErrorString(rf_gpu_err_), #call);          \
            std::abort();                                                                     \
        }                                                                                     \
    } while (0)

// After every launch: reports a bad configuration immediately rather than at the next sync.
#define RF_GPU_CHECK_LAUNCH() RF_GPU_CHECK(gpuGetLastError())
