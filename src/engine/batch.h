// Batch: the ragged tokens of one forward step (several sequences, prefill and decode mixed),
// and BatchInfo: the same step resolved against the paged KV cache, as backends consume it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace rf::engine {

// What a caller asks for. Token i belongs to sequence seq_ids[i] at position positions[i];
// the tokens of one sequence must continue that sequence (position = its current length, +1 ...).
struct Batch {
    std::vector<int32_t> tokens;
    std::vector<int32_t> seq_ids;
    std::vector<int32_t> positions;
    std::vector<uint8_t> want_logits;  // 1 = return this token's logits row

    void clear() {
        tokens.clear();
        seq_ids.clear();
        positions.clear();
        want_logits.clear();
    }
    void add(int32_t token, int32_t seq_id, int32_t position, bool logits) {
        tokens.push_back(token);
        seq_ids.push_back(seq_id);
        positions.push_back(position);
        want_logits.push_back(logits ? 1 : 0);
    }
    int32_t size() const { return static_cast<int32_t>(tokens.size()); }
    int32_t n_outputs() const {
        int32_t n = 0;
        for (uint8_t w : want_logits) n += w;
        return n;
    }
};

// One forward step as the backend sees it (host memory; a GPU backend uploads it once per step
// in Backend::set_batch). Built by the Context after KV blocks have been reserved.
struct BatchInfo {
    int32_t n_tokens = 0;
    std::span<const int32_t> tokens;     // [n_tokens] token ids
    std::span<const int32_t> positions;  // [n_tokens] position inside its sequence
    std::span<const int32_t> kv_slots;   // [n_tokens] cache slot (block * block_size + offset)
                                         // where the token's K and V are written
    std::span<const int32_t> token_seq;  // [n_tokens] index into the batch's sequence list
    std::span<const int32_t> output_rows;  // token rows whose logits are wanted, ascending

    // The distinct sequences of the step: the block table of sequence s is
    // block_tables[block_table_offsets[s] .. block_table_offsets[s + 1]); a token at position p
    // attends to positions [0, p] of its sequence.
    int32_t n_seqs = 0;
    std::span<const int32_t> block_table_offsets;  // [n_seqs + 1]
    std::span<const int32_t> block_tables;
};

}  // namespace rf::engine
