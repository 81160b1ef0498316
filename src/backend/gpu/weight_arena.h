// Weight upload: device memory taken from large chunks (one allocation per chunk, not per
// tensor), filled through pinned staging buffers on a copy stream so that the host copy of one
// piece overlaps the transfer of the previous one. Host data may be freed as soon as upload()
// returns; wait() must run before kernels read the weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/gpu/gpu_runtime.h"
#include "core/status.h"

namespace rf::gpu {

class WeightArena {
  public:
    WeightArena();
    ~WeightArena();
    WeightArena(const WeightArena&) = delete;
    WeightArena& operator=(const WeightArena&) = delete;

    // Device copy of `bytes` bytes (256-byte aligned); out of memory is an error.
    Result<void*> upload(const void* host, size_t bytes);
    // Blocks until every upload has landed (cheap once they have).
    void wait();
    size_t bytes_used() const { return used_; }

  private:
    static constexpr size_t kChunkBytes = size_t{256} << 20;
    static constexpr size_t kStagingBytes = size_t{32} << 20;
    static constexpr int kStagingBuffers = 2;

    Result<void*> allocate(size_t bytes);

    std::vector<void*> chunks_;
    uint8_t* chunk_ = nullptr;  // current chunk
    size_t chunk_size_ = 0;
    size_t chunk_used_ = 0;
    size_t used_ = 0;

    gpuStream_t copy_stream_ = nullptr;
    uint8_t* staging_[kStagingBuffers] = {};
    gpuEvent_t staged_[kStagingBuffers] = {};  // recorded after each buffer's last transfer
    int next_staging_ = 0;
    bool pending_ = false;
};

}  // namespace rf::gpu
