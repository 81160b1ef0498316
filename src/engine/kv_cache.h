// Paged KV cache bookkeeping: a pool of fixed-size blocks shared by sequences through per-sequence
// block tables, with reference counts so a fork shares blocks and writes copy on demand.
// The K/V memory itself lives on the backend (Backend::alloc_kv); this class only hands out slots.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace rf::engine {

// A block the backend must copy before the step runs (copy-on-write of a shared block).
struct BlockCopy {
    int32_t src = 0;
    int32_t dst = 0;
};

class KvCache {
public:
    // n_blocks blocks of block_size token slots; sequence ids are 0 .. max_seqs - 1.
    KvCache(int32_t n_blocks, int32_t block_size, int32_t max_seqs);

    int32_t block_size() const { return block_size_; }
    int32_t max_seqs() const { return static_cast<int32_t>(seqs_.size()); }
    int32_t n_blocks_total() const { return static_cast<int32_t>(ref_counts_.size()); }
    int32_t n_blocks_free() const { return static_cast<int32_t>(free_blocks_.size()); }
    int32_t n_blocks_used() const { return n_blocks_total() - n_blocks_free(); }
    // Token capacity of the whole pool.
    int64_t capacity_tokens() const { return int64_t{n_blocks_total()} * block_size_; }

    bool valid_seq(int32_t seq) const { return seq >= 0 && seq < max_seqs(); }
    int32_t seq_length(int32_t seq) const;  // tokens stored for `seq` (0 when unused)
    std::span<const int32_t> block_table(int32_t seq) const;
    // Cache slot (block * block_size + offset) holding position `pos` of `seq` (< seq_length).
    int32_t slot(int32_t seq, int32_t pos) const;

    // Free blocks `seq` needs to grow to `new_length` tokens, counting copies of shared blocks.
    int32_t blocks_needed(int32_t seq, int32_t new_length) const;
    // Extends `seq` to `new_length` tokens; blocks holding the new positions become exclusively
    // owned (copies appended to `copies`). An error, changing nothing, when blocks are short.
    Status grow(int32_t seq, int32_t new_length, std::vector<BlockCopy>& copies);
    // Keeps the first `new_length` tokens of `seq`, releasing blocks no longer used.
    void truncate(int32_t seq, int32_t new_length);
    void free_seq(int32_t seq) { truncate(seq, 0); }
    void clear();
    // `dst` (emptied first) shares all blocks of `src`: prefix reuse without copying.
    Status fork(int32_t src, int32_t dst);

private:
    struct Sequence {
        int32_t length = 0;
        std::vector<int32_t> blocks;
    };
    int32_t take_block();
    void release_block(int32_t block);

    int32_t block_size_;
    std::vector<int32_t> ref_counts_;   // per block; 0 = free
    std::vector<int32_t> free_blocks_;  // stack of free block ids
    std::vector<Sequence> seqs_;
};

}  // namespace rf::engine
