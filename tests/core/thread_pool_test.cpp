// ThreadPool: every index runs exactly once, chunk sizes and thread ids are in range, the caller
// takes part, and back-to-back / spaced-out calls (spin and sleep wake-ups) never lose work.
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace rf {
namespace {

// Runs one parallel_for and checks that [0, n) is covered exactly once.
void expect_exact_cover(ThreadPool& pool, int64_t n, int64_t min_chunk) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    std::atomic<int> bad_chunks{0};
    pool.parallel_for(n, min_chunk, [&](int64_t begin, int64_t end, int thread) {
        if (begin >= end || thread < 0 || thread >= pool.size()) bad_chunks.fetch_add(1);
        // Only the last chunk may be shorter than min_chunk.
        if (end - begin < min_chunk && end != n) bad_chunks.fetch_add(1);
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
    });
    EXPECT_EQ(bad_chunks.load(), 0) << "n=" << n << " min_chunk=" << min_chunk;
    for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "i=" << i << " n=" << n;
}

TEST(ThreadPool, SizeCountsTheCaller) {
    EXPECT_EQ(ThreadPool(1).size(), 1);
    EXPECT_EQ(ThreadPool(3).size(), 3);
    EXPECT_GE(ThreadPool(0).size(), 1);
}

TEST(ThreadPool, CoversEveryIndexOnce) {
    for (int threads : {1, 2, 3, 5}) {
        ThreadPool pool(threads);
        for (int64_t n : {1, 2, 3, 7, 64, 1000, 4097}) {
            for (int64_t min_chunk : {0, 1, 3, 16, 5000}) expect_exact_cover(pool, n, min_chunk);
        }
    }
}

TEST(ThreadPool, EmptyRangeCallsNothing) {
    ThreadPool pool(2);
    int calls = 0;
    pool.parallel_for(0, 1, [&](int64_t, int64_t, int) { ++calls; });
    pool.parallel_for(-5, 1, [&](int64_t, int64_t, int) { ++calls; });
    EXPECT_EQ(calls, 0);
}

TEST(ThreadPool, SingleThreadRunsOnTheCaller) {
    ThreadPool pool(1);
    const std::thread::id caller = std::this_thread::get_id();
    bool same = true;
    pool.parallel_for(100, 1, [&](int64_t, int64_t, int thread) {
        same = same && thread == 0 && std::this_thread::get_id() == caller;
    });
    EXPECT_TRUE(same);
}

TEST(ThreadPool, CallerTakesPartAsThreadZero) {
    ThreadPool pool(2);
    const std::thread::id caller = std::this_thread::get_id();
    std::mutex mu;
    std::set<std::thread::id> ids_for_zero;
    std::set<int> seen;
    // Enough slow chunks that the caller must take some of them.
    pool.parallel_for(64, 1, [&](int64_t, int64_t, int thread) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        std::lock_guard<std::mutex> lock(mu);
        seen.insert(thread);
        if (thread == 0) ids_for_zero.insert(std::this_thread::get_id());
    });
    ASSERT_EQ(ids_for_zero.size(), 1u);
    EXPECT_EQ(*ids_for_zero.begin(), caller);
}

TEST(ThreadPool, ManyBackToBackCalls) {
    ThreadPool pool(3);
    std::atomic<int64_t> total{0};
    for (int call = 0; call < 20000; ++call) {
        pool.parallel_for(8, 1,
                          [&](int64_t begin, int64_t end, int) { total.fetch_add(end - begin); });
    }
    EXPECT_EQ(total.load(), 8 * 20000);
}

TEST(ThreadPool, CallsSpacedPastTheSpinWindowWakeSleepers) {
    ThreadPool pool(3);
    std::atomic<int64_t> total{0};
    for (int call = 0; call < 50; ++call) {
        std::this_thread::sleep_for(std::chrono::microseconds(call % 2 ? 2000 : 10));
        pool.parallel_for(30, 1,
                          [&](int64_t begin, int64_t end, int) { total.fetch_add(end - begin); });
    }
    EXPECT_EQ(total.load(), 30 * 50);
}

TEST(ThreadPool, DestroysWhileWorkersSleep) {
    auto pool = std::make_unique<ThreadPool>(4);
    pool->parallel_for(16, 1, [](int64_t, int64_t, int) {});
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    pool.reset();
    SUCCEED();
}

}  // namespace
}  // namespace rf
