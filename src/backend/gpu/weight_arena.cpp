// Weight upload through pinned staging into chunked device memory (see weight_arena.h).
#include "backend/gpu/weight_arena.h"

#include <algorithm>
#include <cstring>

#include "backend/gpu/gpu_check.h"

namespace rf::gpu {

WeightArena::WeightArena() {
    RF_GPU_CHECK(gpuStreamCreate(&copy_stream_));
    for (int i = 0; i < kStagingBuffers; ++i) {
        RF_GPU_CHECK(gpuEventCreate(&staged_[i]));
        RF_GPU_CHECK(gpuEventRecord(staged_[i], copy_stream_));
    }
}

WeightArena::~WeightArena() {
    (void)gpuStreamSynchronize(copy_stream_);
    for (int i = 0; i < kStagingBuffers; ++i) {
        if (staging_[i] != nullptr) (void)gpuFreeHost(staging_[i]);
        (void)gpuEventDestroy(staged_[i]);
    }
    for (void* c : chunks_) (void)gpuFree(c);
    (void)gpuStreamDestroy(copy_stream_);
}

Result<void*> WeightArena::allocate(size_t bytes) {
    constexpr size_t kAlign = 256;
    bytes = (std::max<size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
    if (chunk_ == nullptr || chunk_used_ + bytes > chunk_size_) {
        // A new chunk; tensors larger than a chunk get one of their own size.
        const size_t size = std::max(bytes, kChunkBytes);
        void* p = nullptr;
        const gpuError_t err = gpuMalloc(&p, size);
        if (err != gpuSuccess) {
            (void)gpuGetLastError();  // clear the sticky error state of a failed allocation
            return error("cannot allocate {} MiB on the GPU ({} MiB of weights so far): {}",
                         size >> 20, used_ >> 20, gpuGetErrorString(err));
        }
        chunks_.push_back(p);
        chunk_ = static_cast<uint8_t*>(p);
        chunk_size_ = size;
        chunk_used_ = 0;
    }
    void* out = chunk_ + chunk_used_;
    chunk_used_ += bytes;
    used_ += bytes;
    return out;
}

Result<void*> WeightArena::upload(const void* host, size_t bytes) {
    RF_ASSIGN_OR_RETURN(void* device, allocate(bytes));
    const auto* src = static_cast<const uint8_t*>(host);
    for (size_t done = 0; done < bytes;) {
        const int i = next_staging_;
        next_staging_ = (next_staging_ + 1) % kStagingBuffers;
        if (staging_[i] == nullptr)
            RF_GPU_CHECK(gpuMallocHost(reinterpret_cast<void**>(&staging_[i]), kStagingBytes));
        // The buffer's previous transfer must be done before it is refilled.
        RF_GPU_CHECK(gpuEventSynchronize(staged_[i]));
        const size_t n = std::min(kStagingBytes, bytes - done);
        std::memcpy(staging_[i], src + done, n);
        RF_GPU_CHECK(gpuMemcpyAsync(static_cast<uint8_t*>(device) + done, staging_[i], n,
                                    gpuMemcpyHostToDevice, copy_stream_));
        RF_GPU_CHECK(gpuEventRecord(staged_[i], copy_stream_));
        done += n;
    }
    pending_ = true;
    return device;
}

void WeightArena::wait() {
    if (!pending_) return;
    RF_GPU_CHECK(gpuStreamSynchronize(copy_stream_));
    pending_ = false;
}

}  // namespace rf::gpu
