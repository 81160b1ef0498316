// Paged KV cache bookkeeping: block allocation, reference counts and copy-on-write.
#include "engine/kv_cache.h"

#include <algorithm>

#include "core/check.h"

namespace rf::engine {

KvCache::KvCache(int32_t n_blocks, int32_t block_size, int32_t max_seqs)
    : block_size_(block_size), ref_counts_(static_cast<size_t>(n_blocks), 0),
      seqs_(static_cast<size_t>(max_seqs)) {
    RF_CHECK(n_blocks > 0 && block_size > 0 && max_seqs > 0);
    free_blocks_.reserve(static_cast<size_t>(n_blocks));
    // Hand out low block ids first (stack order).
    for (int32_t b = n_blocks - 1; b >= 0; --b) free_blocks_.push_back(b);
}

int32_t KvCache::seq_length(int32_t seq) const {
    RF_CHECK(valid_seq(seq));
    return seqs_[static_cast<size_t>(seq)].length;
}

std::span<const int32_t> KvCache::block_table(int32_t seq) const {
    RF_CHECK(valid_seq(seq));
    return seqs_[static_cast<size_t>(seq)].blocks;
}

int32_t KvCache::slot(int32_t seq, int32_t pos) const {
    const Sequence& s = seqs_[static_cast<size_t>(seq)];
    RF_CHECK(pos >= 0 && pos < s.length);
    return s.blocks[static_cast<size_t>(pos / block_size_)] * block_size_ + pos % block_size_;
}

int32_t KvCache::blocks_needed(int32_t seq, int32_t new_length) const {
    RF_CHECK(valid_seq(seq));
    const Sequence& s = seqs_[static_cast<size_t>(seq)];
    if (new_length <= s.length) return 0;
    const int32_t have = static_cast<int32_t>(s.blocks.size());
    const int32_t want = (new_length + block_size_ - 1) / block_size_;
    int32_t needed = want - have;
    // The partly filled last block gets written: it must be copied when shared.
    if (s.length % block_size_ != 0 && ref_counts_[static_cast<size_t>(s.blocks.back())] > 1) {
        ++needed;
    }
    return needed;
}

Status KvCache::grow(int32_t seq, int32_t new_length, std::vector<BlockCopy>& copies) {
    if (!valid_seq(seq)) return error("sequence id {} out of range [0, {})", seq, max_seqs());
    const int32_t needed = blocks_needed(seq, new_length);
    if (needed > n_blocks_free()) {
        return error("KV cache full: sequence {} needs {} more blocks of {} tokens, {} free", seq,
                     needed, block_size_, n_blocks_free());
    }
    Sequence& s = seqs_[static_cast<size_t>(seq)];
    if (new_length <= s.length) return Status::ok();
    if (s.length % block_size_ != 0) {
        int32_t& last = s.blocks.back();
        if (ref_counts_[static_cast<size_t>(last)] > 1) {
            const int32_t fresh = take_block();
            copies.push_back({last, fresh});
            release_block(last);
            last = fresh;
        }
    }
    const size_t want = static_cast<size_t>((new_length + block_size_ - 1) / block_size_);
    while (s.blocks.size() < want) s.blocks.push_back(take_block());
    s.length = new_length;
    return Status::ok();
}

void KvCache::truncate(int32_t seq, int32_t new_length) {
    RF_CHECK(valid_seq(seq));
    Sequence& s = seqs_[static_cast<size_t>(seq)];
    if (new_length >= s.length) return;
    const size_t keep = static_cast<size_t>((new_length + block_size_ - 1) / block_size_);
    while (s.blocks.size() > keep) {
        release_block(s.blocks.back());
        s.blocks.pop_back();
    }
    s.length = std::max(new_length, 0);
}

void KvCache::clear() {
    for (int32_t seq = 0; seq < max_seqs(); ++seq) free_seq(seq);
}

Status KvCache::fork(int32_t src, int32_t dst) {
    if (!valid_seq(src) || !valid_seq(dst)) {
        return error("fork: sequence ids {} -> {} out of range [0, {})", src, dst, max_seqs());
    }
    if (src == dst) return Status::ok();
    free_seq(dst);
    const Sequence& from = seqs_[static_cast<size_t>(src)];
    Sequence& to = seqs_[static_cast<size_t>(dst)];
    to.blocks = from.blocks;
    to.length = from.length;
    for (int32_t b : to.blocks) ++ref_counts_[static_cast<size_t>(b)];
    return Status::ok();
}

int32_t KvCache::take_block() {
    RF_CHECK(!free_blocks_.empty());
    const int32_t b = free_blocks_.back();
    free_blocks_.pop_back();
    ref_counts_[static_cast<size_t>(b)] = 1;
    return b;
}

void KvCache::release_block(int32_t block) {
    int32_t& rc = ref_counts_[static_cast<size_t>(block)];
    RF_CHECK(rc > 0);
    if (--rc == 0) free_blocks_.push_back(block);
}

}  // namespace rf::engine
