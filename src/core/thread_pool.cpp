// Persistent worker threads woken per parallel_for: workers spin briefly on a generation counter
// (back-to-back kernel launches in a decode step find them awake), then sleep on a futex-backed
// atomic wait. The caller runs chunks too and waits only for chunks in progress, never for a
// worker that has not started: with more runnable threads than cores, a descheduled worker
// would otherwise stall every parallel_for until the scheduler ran it.
#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/check.h"

namespace rf {
namespace {

// How long an idle thread polls before sleeping. Kernels of one decode step are a few
// microseconds apart; sleeping and waking costs several microseconds on each side.
constexpr auto kSpinTime = std::chrono::microseconds(50);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

// Polls `pred` for up to kSpinTime; returns true if it became true.
template <typename Pred>
bool spin_until(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
    for (int round = 1;; ++round) {
        for (int i = 0; i < 64; ++i) {
            if (pred()) return true;
            cpu_relax();
        }
        if (std::chrono::steady_clock::now() >= deadline) return pred();
        // With more threads than free cores the thread we wait for may be descheduled: now and
        // then give it the core.
        if (round >= 8) std::this_thread::yield();
    }
}

}  // namespace

struct ThreadPool::Impl {
    using Fn = std::function<void(int64_t, int64_t, int)>;

    int n_threads = 1;
    std::vector<std::thread> workers;

    // The current job: written by the caller before it bumps `generation` (seq_cst, so also a
    // release), read by workers after they load it. The caller changes them only once every
    // chunk is done and no worker is inside the job.
    const Fn* fn = nullptr;
    int64_t n = 0;
    int64_t chunk = 1;
    int64_t n_chunks = 0;
    alignas(64) std::atomic<int64_t> next_chunk{0};
    alignas(64) std::atomic<int64_t> done_chunks{0};
    alignas(64) std::atomic<uint32_t> generation{0};
    std::atomic<uint32_t> closed{0};  // the last job whose chunks have all been done
    std::atomic<int> sleeping_workers{0};
    // Workers inside a job. A worker that wakes late (descheduled on a busy machine) finds its
    // job closed and leaves: the caller never waits for a thread that took no chunk.
    alignas(64) std::atomic<int> active{0};
    std::atomic<bool> caller_sleeping{false};
    std::atomic<bool> stop{false};

    // Claims chunks until none are left.
    void run_chunks(int thread) {
        for (;;) {
            const int64_t c = next_chunk.fetch_add(1, std::memory_order_relaxed);
            if (c >= n_chunks) return;
            const int64_t begin = c * chunk;
            const int64_t end = std::min(n, begin + chunk);
            (*fn)(begin, end, thread);
            done_chunks.fetch_add(1, std::memory_order_release);
        }
    }

    void wait_for_new_job(uint32_t seen) {
        const auto changed = [&] { return generation.load(std::memory_order_acquire) != seen; };
        if (spin_until(changed)) return;
        // seq_cst increment pairs with the caller's seq_cst bump + load of the count: either
        // the caller sees a sleeper and notifies, or we see the new generation.
        sleeping_workers.fetch_add(1, std::memory_order_seq_cst);
        while (generation.load(std::memory_order_seq_cst) == seen) generation.wait(seen);
        sleeping_workers.fetch_sub(1, std::memory_order_relaxed);
    }

    void worker_loop(int thread) {
        uint32_t seen = 0;
        for (;;) {
            wait_for_new_job(seen);
            // Enter first, then read which job is current: the caller closes a job before it
            // checks `active`, so a worker entering after that check sees the job closed.
            active.fetch_add(1, std::memory_order_seq_cst);
            seen = generation.load(std::memory_order_seq_cst);
            const bool quit = stop.load(std::memory_order_acquire);
            if (!quit && closed.load(std::memory_order_seq_cst) != seen) run_chunks(thread);
            if (active.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
                caller_sleeping.load(std::memory_order_seq_cst)) {
                active.notify_one();
            }
            if (quit) return;
        }
    }

    // Spins, then sleeps until `done()`; workers wake the caller whenever one leaves a job.
    template <typename Pred>
    void caller_wait(Pred done) {
        if (spin_until(done)) return;
        caller_sleeping.store(true, std::memory_order_seq_cst);
        for (int a = active.load(std::memory_order_seq_cst); !done(); a = active.load(std::memory_order_seq_cst)) {
            active.wait(a);
        }
        caller_sleeping.store(false, std::memory_order_relaxed);
    }

    // Every chunk was claimed before this is called; the chunks still running belong to
    // workers inside the job, which leave it when they finish.
    void finish_job(uint32_t job) {
        caller_wait([&] { return done_chunks.load(std::memory_order_acquire) == n_chunks; });
        closed.store(job, std::memory_order_seq_cst);
        caller_wait([&] { return active.load(std::memory_order_seq_cst) == 0; });
    }

    uint32_t start_job() {
        next_chunk.store(0, std::memory_order_relaxed);
        done_chunks.store(0, std::memory_order_relaxed);
        const uint32_t job = generation.fetch_add(1, std::memory_order_seq_cst) + 1;
        if (sleeping_workers.load(std::memory_order_seq_cst) > 0) generation.notify_all();
        return job;
    }
};

ThreadPool::ThreadPool(int n_threads) : impl_(new Impl) {
    if (n_threads <= 0)
        n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    impl_->n_threads = n_threads;
    impl_->workers.reserve(static_cast<size_t>(n_threads - 1));
    for (int t = 1; t < n_threads; ++t) {
        impl_->workers.emplace_back([this, t] { impl_->worker_loop(t); });
    }
}

ThreadPool::~ThreadPool() {
    impl_->stop.store(true, std::memory_order_release);
    impl_->generation.fetch_add(1, std::memory_order_seq_cst);
    impl_->generation.notify_all();
    for (std::thread& w : impl_->workers) w.join();
    delete impl_;
}

int ThreadPool::size() const {
    return impl_->n_threads;
}

void ThreadPool::parallel_for(
    int64_t n, int64_t min_chunk,
    const std::function<void(int64_t begin, int64_t end, int thread)>& fn) {
    if (n <= 0) return;
    Impl& p = *impl_;
    min_chunk = std::max<int64_t>(1, min_chunk);
    // A few chunks per thread so a thread slowed by other load does not hold up the rest.
    const int64_t target =
        std::max<int64_t>(min_chunk, (n + 4 * p.n_threads - 1) / (4 * p.n_threads));
    const int64_t chunk = p.n_threads == 1 ? n : target;
    const int64_t n_chunks = (n + chunk - 1) / chunk;
    if (n_chunks == 1) {
        fn(0, n, 0);
        return;
    }
    RF_CHECK_MSG(p.fn == nullptr, "ThreadPool::parallel_for is not re-entrant");
    p.fn = &fn;
    p.n = n;
    p.chunk = chunk;
    p.n_chunks = n_chunks;
    const uint32_t job = p.start_job();
    p.run_chunks(0);
    p.finish_job(job);
    p.fn = nullptr;
}

}  // namespace rf
