// A fixed pool of worker threads for data-parallel loops (matmul rows, attention heads).
#pragma once

#include <cstdint>
#include <functional>

namespace rf {

class ThreadPool {
public:
    // n_threads <= 0 picks the number of hardware threads. The calling thread takes part in
    // every parallel_for, so a pool of N runs N - 1 background workers.
    explicit ThreadPool(int n_threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const;

    // Runs fn(begin, end, thread_index) over [0, n) split into contiguous chunks of at least
    // `min_chunk` items; returns when all chunks are done. Not re-entrant.
    void parallel_for(int64_t n, int64_t min_chunk,
                      const std::function<void(int64_t begin, int64_t end, int thread)>& fn);

private:
    struct Impl;
    Impl* impl_;
};

}  // namespace rf
