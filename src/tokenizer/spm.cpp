// SentencePiece-style encoding: start from single characters, repeatedly merge the adjacent
// pair whose concatenation is the highest-scoring token (leftmost on ties), then map pieces
// that are not tokens to byte tokens <0xNN>.
#include <algorithm>

#include "tokenizer/tokenizer_state.h"
#include "tokenizer/unicode.h"

namespace rf::tok {
namespace {

// Bytes [start, start + length) of the escaped text; length 0 once merged leftwards.
struct SpmSymbol {
    int32_t prev;
    int32_t next;
    size_t start;
    size_t length;
};

struct SpmBigram {
    int32_t left;
    int32_t right;
    float score;
    size_t size;  // bytes of left + right when pushed; a mismatch later means it is stale
};

// Heap order: highest score on top, then leftmost.
bool bigram_below(const SpmBigram& a, const SpmBigram& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
}

struct SpmScratch {
    std::vector<SpmSymbol> symbols;
    std::vector<SpmBigram> heap;
    std::vector<int32_t> ids;
};

SpmScratch& scratch() {
    thread_local SpmScratch s;
    return s;
}

void emit_piece(const Tokenizer::State& s, std::string_view piece, std::vector<int32_t>& out) {
    const int32_t id = s.find(piece);
    if (id != kNoToken) {
        out.push_back(id);
        return;
    }
    for (const char c : piece) {
        const int32_t byte_id = s.byte_tokens[static_cast<uint8_t>(c)];
        if (byte_id != kNoToken) {
            out.push_back(byte_id);
        } else if (s.unk != kNoToken) {
            out.push_back(s.unk);  // no byte fallback in this vocabulary
        }
    }
}

void encode_segment(const Tokenizer::State& s, std::string_view text, std::vector<int32_t>& out) {
    SpmScratch& scratch_buffers = scratch();
    std::vector<SpmSymbol>& symbols = scratch_buffers.symbols;
    std::vector<SpmBigram>& heap = scratch_buffers.heap;
    symbols.clear();
    heap.clear();
    for (size_t offset = 0; offset < text.size();) {
        // One character per symbol. Bytes that start no valid character stand alone, so
        // invalid input still maps to its exact bytes (the reference would glue them to the
        // following bytes by the lead byte's announced length).
        const int n = utf8_sequence_length(text.substr(offset));
        const size_t length = n > 0 ? static_cast<size_t>(n) : 1;
        const auto index = static_cast<int32_t>(symbols.size());
        symbols.push_back(SpmSymbol{index - 1, offset + length == text.size() ? -1 : index + 1,
                                    offset, length});
        offset += length;
    }
    if (symbols.empty()) return;

    auto try_add = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const size_t size = symbols[left].length + symbols[right].length;
        const int32_t id = s.find(text.substr(symbols[left].start, size));
        if (id == kNoToken) return;
        heap.push_back(SpmBigram{left, right, s.scores[id], size});
        std::push_heap(heap.begin(), heap.end(), bigram_below);
    };
    for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_add(i - 1, i);

    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), bigram_below);
        const SpmBigram bigram = heap.back();
        heap.pop_back();
        SpmSymbol& left = symbols[bigram.left];
        SpmSymbol& right = symbols[bigram.right];
        if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.size) {
            continue;
        }
        left.length += right.length;
        right.length = 0;
        left.next = right.next;
        if (right.next >= 0) symbols[right.next].prev = bigram.left;
        try_add(left.prev, bigram.left);
        try_add(bigram.left, left.next);
    }
    for (int32_t i = 0; i != -1; i = symbols[i].next) {
        emit_piece(s, text.substr(symbols[i].start, symbols[i].length), out);
    }
}

void encode_word_cached(const Tokenizer::State& s, std::string_view word,
                        std::vector<int32_t>& out) {
    if (!s.spm_cache.cacheable(word)) {
        encode_segment(s, word, out);
        return;
    }
    if (s.spm_cache.lookup(word, out)) return;
    std::vector<int32_t>& ids = scratch().ids;
    ids.clear();
    encode_segment(s, word, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    s.spm_cache.store(word, ids);
}

bool is_space_at(std::string_view text, size_t pos) {
    return text.compare(pos, kSpmSpace.size(), kSpmSpace) == 0;
}

}  // namespace

void spm_encode(const Tokenizer::State& s, std::string_view text, std::vector<int32_t>& out) {
    if (!s.spm_split_words) {
        encode_segment(s, text, out);
        return;
    }
    // Cut before every U+2581 that follows another character: no token spans such a point.
    size_t start = 0;
    for (size_t pos = text.find(kSpmSpace, 1); pos != std::string_view::npos;
         pos = text.find(kSpmSpace, pos + 1)) {
        const bool after_space = pos >= kSpmSpace.size() && is_space_at(text, pos - kSpmSpace.size());
        if (after_space) continue;
        encode_word_cached(s, text.substr(start, pos - start), out);
        start = pos;
    }
    encode_word_cached(s, text.substr(start), out);
}

}  // namespace rf::tok
