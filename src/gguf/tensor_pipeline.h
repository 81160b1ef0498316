// Internal to the writer: runs lazy tensor producers on worker threads, a bounded window ahead
// of the thread that writes the file in tensor order.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "gguf/gguf_writer.h"

namespace rf::gguf {

class TensorPipeline {
  public:
    // n_threads <= 1 produces each tensor on the caller's thread inside acquire().
    TensorPipeline(const std::vector<GgufWriter::PendingTensor>& tensors, int n_threads);
    ~TensorPipeline();
    TensorPipeline(const TensorPipeline&) = delete;
    TensorPipeline& operator=(const TensorPipeline&) = delete;

    // The bytes of tensor i (blocks until produced); acquire(i) is called in increasing i.
    std::span<const uint8_t> acquire(size_t i);
    // Frees tensor i's buffer and lets the workers move the window on.
    void release(size_t i);
    // Stops the workers (pending producers finish first); idempotent.
    void stop();

  private:
    void worker();
    std::span<const uint8_t> produce_now(size_t i);

    const std::vector<GgufWriter::PendingTensor>& tensors_;
    size_t window_;
    std::vector<std::unique_ptr<uint8_t[]>> buffers_;
    std::vector<bool> ready_;
    size_t next_ = 0;      // next tensor a worker takes
    size_t released_ = 0;  // tensors [0, released_) are written and freed
    bool stopping_ = false;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::thread> workers_;
};

}  // namespace rf::gguf
