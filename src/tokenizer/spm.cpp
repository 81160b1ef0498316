// SentencePiece-style encoding: start from single characters, repeatedly merge the adjacent
// pair whose concatenation is the highest-scoring token (leftmost on ties), then map pieces
// that are not tokens to byte tokens <0xNN>.
#include <queue>

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

// Highest score on top, then leftmost.
struct SpmBigramOrder {
    bool operator()(const SpmBigram& a, const SpmBigram& b) const {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
};

using SpmQueue = std::priority_queue<SpmBigram, std::vector<SpmBigram>, SpmBigramOrder>;

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

}  // namespace

void spm_encode(const Tokenizer::State& s, std::string_view text, std::vector<int32_t>& out) {
    std::vector<SpmSymbol> symbols;
    symbols.reserve(text.size());
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

    SpmQueue queue;
    auto try_add = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const size_t size = symbols[left].length + symbols[right].length;
        const int32_t id = s.find(text.substr(symbols[left].start, size));
        if (id == kNoToken) return;
        queue.push(SpmBigram{left, right, s.scores[id], size});
    };
    for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_add(i - 1, i);

    while (!queue.empty()) {
        const SpmBigram bigram = queue.top();
        queue.pop();
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

}  // namespace rf::tok
