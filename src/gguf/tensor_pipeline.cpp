// Bounded producer pipeline for GgufWriter::write_file: memory holds at most `window_` tensors.
#include "gguf/tensor_pipeline.h"

#include <algorithm>

namespace rf::gguf {

TensorPipeline::TensorPipeline(const std::vector<GgufWriter::PendingTensor>& tensors, int n_threads)
    : tensors_(tensors),
      window_(static_cast<size_t>(std::max(1, n_threads)) * 2),
      buffers_(tensors.size()),
      ready_(tensors.size(), false) {
    if (n_threads <= 1) return;
    workers_.reserve(static_cast<size_t>(n_threads));
    for (int i = 0; i < n_threads; ++i) workers_.emplace_back([this] { worker(); });
}

TensorPipeline::~TensorPipeline() {
    stop();
}

void TensorPipeline::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    for (std::thread& t : workers_) {
        if (t.joinable()) t.join();
    }
    workers_.clear();
}

void TensorPipeline::worker() {
    for (;;) {
        size_t i = 0;
        {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [&] {
                return stopping_ || (next_ < tensors_.size() && next_ < released_ + window_);
            });
            if (stopping_ || next_ >= tensors_.size()) return;
            i = next_++;
        }
        const GgufWriter::PendingTensor& t = tensors_[i];
        std::unique_ptr<uint8_t[]> buffer;
        if (t.produce) {
            buffer = std::make_unique_for_overwrite<uint8_t[]>(t.n_bytes);
            t.produce(std::span<uint8_t>(buffer.get(), t.n_bytes));
        }
        {
            std::lock_guard lock(mutex_);
            buffers_[i] = std::move(buffer);
            ready_[i] = true;
        }
        changed_.notify_all();
    }
}

std::span<const uint8_t> TensorPipeline::produce_now(size_t i) {
    const GgufWriter::PendingTensor& t = tensors_[i];
    if (!t.produce) return {t.bytes.data(), t.bytes.size()};
    buffers_[i] = std::make_unique_for_overwrite<uint8_t[]>(t.n_bytes);
    t.produce(std::span<uint8_t>(buffers_[i].get(), t.n_bytes));
    return {buffers_[i].get(), t.n_bytes};
}

std::span<const uint8_t> TensorPipeline::acquire(size_t i) {
    if (workers_.empty()) return produce_now(i);
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return ready_[i]; });
    const GgufWriter::PendingTensor& t = tensors_[i];
    if (!t.produce) return {t.bytes.data(), t.bytes.size()};
    return {buffers_[i].get(), t.n_bytes};
}

void TensorPipeline::release(size_t i) {
    {
        std::lock_guard lock(mutex_);
        buffers_[i].reset();
        released_ = i + 1;
    }
    changed_.notify_all();
}

}  // namespace rf::gguf
