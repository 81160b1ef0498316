// Paged KV cache bookkeeping: allocation, capacity, truncation, fork and copy-on-write.
#include <gtest/gtest.h>

#include "engine/kv_cache.h"

namespace rf::engine {
namespace {

TEST(KvCache, GrowsByBlocksAndFrees) {
    KvCache kv(8, 4, 3);
    std::vector<BlockCopy> copies;
    EXPECT_EQ(kv.blocks_needed(0, 5), 2);
    ASSERT_TRUE(kv.grow(0, 5, copies).is_ok());
    EXPECT_EQ(kv.seq_length(0), 5);
    EXPECT_EQ(kv.n_blocks_used(), 2);
    EXPECT_EQ(kv.blocks_needed(0, 8), 0);  // fits the partly filled block
    ASSERT_TRUE(kv.grow(0, 8, copies).is_ok());
    EXPECT_EQ(kv.n_blocks_used(), 2);
    // Slots map position -> block * block_size + offset.
    const auto table = kv.block_table(0);
    EXPECT_EQ(kv.slot(0, 6), table[1] * 4 + 2);
    kv.truncate(0, 3);
    EXPECT_EQ(kv.n_blocks_used(), 1);
    kv.free_seq(0);
    EXPECT_EQ(kv.n_blocks_free(), 8);
    EXPECT_TRUE(copies.empty());
}

TEST(KvCache, RefusesWhenFullWithoutChanges) {
    KvCache kv(3, 4, 2);
    std::vector<BlockCopy> copies;
    ASSERT_TRUE(kv.grow(0, 8, copies).is_ok());
    const Status st = kv.grow(1, 8, copies);
    EXPECT_FALSE(st.is_ok());
    EXPECT_NE(st.message().find("KV cache full"), std::string::npos);
    EXPECT_EQ(kv.seq_length(1), 0);
    EXPECT_EQ(kv.n_blocks_free(), 1);
    EXPECT_FALSE(kv.grow(7, 1, copies).is_ok());  // bad sequence id
}

TEST(KvCache, ForkSharesBlocksAndCopiesOnWrite) {
    KvCache kv(8, 4, 2);
    std::vector<BlockCopy> copies;
    ASSERT_TRUE(kv.grow(0, 6, copies).is_ok());  // blocks A (full) and B (2 of 4)
    ASSERT_TRUE(kv.fork(0, 1).is_ok());
    EXPECT_EQ(kv.n_blocks_used(), 2);
    EXPECT_EQ(kv.seq_length(1), 6);
    // Writing position 6 of seq 1 touches shared block B: it needs a copy.
    EXPECT_EQ(kv.blocks_needed(1, 7), 1);
    ASSERT_TRUE(kv.grow(1, 7, copies).is_ok());
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].src, kv.block_table(0)[1]);
    EXPECT_EQ(copies[0].dst, kv.block_table(1)[1]);
    EXPECT_EQ(kv.block_table(0)[0], kv.block_table(1)[0]);  // full block A still shared
    EXPECT_EQ(kv.n_blocks_used(), 3);
    kv.free_seq(0);
    EXPECT_EQ(kv.n_blocks_used(), 2);
    kv.free_seq(1);
    EXPECT_EQ(kv.n_blocks_free(), 8);
}

TEST(KvCache, ClearReleasesEverything) {
    KvCache kv(4, 2, 4);
    std::vector<BlockCopy> copies;
    for (int s = 0; s < 4; ++s) ASSERT_TRUE(kv.grow(s, 2, copies).is_ok());
    EXPECT_EQ(kv.n_blocks_free(), 0);
    kv.clear();
    EXPECT_EQ(kv.n_blocks_free(), 4);
    EXPECT_EQ(kv.capacity_tokens(), 8);
}

}  // namespace
}  // namespace rf::engine
