// BpeModel: merges run on integer symbol ids (every merge side and result is interned once at
// load), a min-heap picks the lowest rank (leftmost on ties), finished words are cached.
#include "tokenizer/bpe.h"

#include <algorithm>
#include <array>
#include <deque>
#include <functional>
#include <unordered_map>

#include "core/check.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"
#include "tokenizer/word_cache.h"

namespace rf::tok {
namespace {

struct ViewHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Merge {
    int32_t rank = 0;
    int32_t result = 0;  // symbol id of left + right
};

// Open-addressing hash table: (left id, right id) -> merge. Far faster than a node map for
// the ~100k merges a vocabulary has.
class PairTable {
public:
    void reserve(size_t n) {
        size_t capacity = 16;
        while (capacity < 2 * n) capacity *= 2;
        keys_.assign(capacity, kEmpty);
        values_.assign(capacity, Merge{});
        mask_ = capacity - 1;
    }
    // Keeps the first merge for a pair, as the reference loader does.
    void insert(uint64_t key, Merge merge) {
        for (size_t i = slot(key);; i = (i + 1) & mask_) {
            if (keys_[i] == key) return;
            if (keys_[i] == kEmpty) {
                keys_[i] = key;
                values_[i] = merge;
                ++size_;
                return;
            }
        }
    }
    const Merge* find(uint64_t key) const {
        for (size_t i = slot(key);; i = (i + 1) & mask_) {
            if (keys_[i] == key) return &values_[i];
            if (keys_[i] == kEmpty) return nullptr;
        }
    }
    size_t size() const { return size_; }

private:
    static constexpr uint64_t kEmpty = ~uint64_t{0};
    size_t slot(uint64_t key) const {
        return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 17) & mask_;
    }
    std::vector<uint64_t> keys_;
    std::vector<Merge> values_;
    size_t mask_ = 0;
    size_t size_ = 0;
};

uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
}

// One symbol of a word being merged: bytes [start, start + length) of the raw word.
struct Symbol {
    int32_t id;  // interned symbol id, -1 when the byte's character is unknown
    int32_t prev;
    int32_t next;
    uint32_t start;
    uint32_t length;  // 0 once merged into its left neighbour
};

struct Bigram {
    int32_t rank;
    int32_t left;  // symbol indices
    int32_t right;
    int32_t left_id;  // ids at push time: a changed id means the bigram is stale
    int32_t right_id;
    int32_t result;
};

// Heap order: lowest rank on top, then leftmost.
bool bigram_after(const Bigram& a, const Bigram& b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
}

// Reused buffers: merging allocates nothing once a thread has warmed up.
struct Scratch {
    std::vector<Symbol> symbols;
    std::vector<Bigram> heap;
    std::vector<int32_t> ids;
    std::string encoded;
};

Scratch& scratch() {
    thread_local Scratch s;
    return s;
}

constexpr size_t kMaxWordBytes = size_t{1} << 28;

}  // namespace

struct BpeModel::Tables {
    int32_t n_vocab = 0;
    std::unordered_map<std::string_view, int32_t, ViewHash, std::equal_to<>> symbol_ids;
    std::deque<std::string> extras;  // interned texts that are not tokens; stable addresses
    PairTable merges;
    std::array<int32_t, 256> byte_symbol{};  // symbol of each raw byte's mapped character
    std::array<int32_t, 256> byte_token{};   // token for a byte that ends up unmerged
    bool ignore_merges = false;
    WordCache cache;

    int32_t lookup(std::string_view text) const {
        const auto it = symbol_ids.find(text);
        return it == symbol_ids.end() ? -1 : it->second;
    }
    int32_t intern(std::string_view text) {
        const int32_t id = lookup(text);
        if (id >= 0) return id;
        extras.emplace_back(text);
        const auto new_id = static_cast<int32_t>(n_vocab + extras.size() - 1);
        symbol_ids.emplace(extras.back(), new_id);
        return new_id;
    }
};

BpeModel::BpeModel() = default;
BpeModel::BpeModel(BpeModel&&) noexcept = default;
BpeModel& BpeModel::operator=(BpeModel&&) noexcept = default;
BpeModel::~BpeModel() = default;

Result<BpeModel> BpeModel::create(const std::vector<std::string>& tokens,
                                  const std::vector<std::pair<std::string, std::string>>& merges,
                                  bool ignore_merges) {
    if (tokens.size() + 2 * merges.size() >= static_cast<size_t>(INT32_MAX) / 2) {
        return error("BPE vocabulary too large ({} tokens, {} merges)", tokens.size(),
                     merges.size());
    }
    BpeModel model;
    model.tables_ = std::make_unique<Tables>();
    Tables& t = *model.tables_;
    t.n_vocab = static_cast<int32_t>(tokens.size());
    t.ignore_merges = ignore_merges;
    t.symbol_ids.reserve(tokens.size() + merges.size());
    for (size_t id = 0; id < tokens.size(); ++id) {
        t.symbol_ids.emplace(tokens[id], static_cast<int32_t>(id));
    }
    t.merges.reserve(merges.size());
    std::string joined;
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const auto& [left, right] = merges[rank];
        const int32_t left_id = t.intern(left);
        const int32_t right_id = t.intern(right);
        joined.assign(left).append(right);
        const int32_t result = t.intern(joined);
        t.merges.insert(pair_key(left_id, right_id), Merge{static_cast<int32_t>(rank), result});
    }
    const ByteLevelMap& map = ByteLevelMap::get();
    for (int b = 0; b < 256; ++b) {
        const int32_t symbol = t.lookup(map.encode(static_cast<uint8_t>(b)));
        t.byte_symbol[b] = symbol;
        t.byte_token[b] = symbol >= 0 && symbol < t.n_vocab ? symbol : kNoToken;
    }
    return model;
}

size_t BpeModel::n_merges() const { return tables_->merges.size(); }

void BpeModel::set_cache_enabled(bool enabled) { tables_->cache.set_enabled(enabled); }

size_t BpeModel::cache_size() const { return tables_->cache.size(); }

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& out) const {
    const Tables& t = *tables_;
    Scratch& s = scratch();
    const auto n = static_cast<int32_t>(word.size());
    s.symbols.resize(word.size());
    for (int32_t i = 0; i < n; ++i) {
        s.symbols[i] = Symbol{t.byte_symbol[static_cast<uint8_t>(word[i])], i - 1,
                              i + 1 < n ? i + 1 : -1, static_cast<uint32_t>(i), 1};
    }
    s.heap.clear();
    auto try_add = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const int32_t left_id = s.symbols[left].id;
        const int32_t right_id = s.symbols[right].id;
        if (left_id < 0 || right_id < 0) return;
        const Merge* merge = t.merges.find(pair_key(left_id, right_id));
        if (merge == nullptr) return;
        s.heap.push_back(Bigram{merge->rank, left, right, left_id, right_id, merge->result});
        std::push_heap(s.heap.begin(), s.heap.end(), bigram_after);
    };
    for (int32_t i = 0; i + 1 < n; ++i) try_add(i, i + 1);

    while (!s.heap.empty()) {
        std::pop_heap(s.heap.begin(), s.heap.end(), bigram_after);
        const Bigram b = s.heap.back();
        s.heap.pop_back();
        Symbol& left = s.symbols[b.left];
        Symbol& right = s.symbols[b.right];
        if (left.length == 0 || right.length == 0 || left.id != b.left_id ||
            right.id != b.right_id) {
            continue;  // one side already took part in another merge
        }
        left.id = b.result;
        left.length += right.length;
        right.length = 0;
        left.next = right.next;
        if (right.next >= 0) s.symbols[right.next].prev = b.left;
        try_add(left.prev, b.left);
        try_add(b.left, left.next);
    }

    for (int32_t i = 0; i >= 0 && i < n; i = s.symbols[i].next) {
        const Symbol& symbol = s.symbols[i];
        if (symbol.id >= 0 && symbol.id < t.n_vocab) {
            out.push_back(symbol.id);
            continue;
        }
        // Not a token (odd vocabularies): fall back to one token per byte.
        for (uint32_t k = symbol.start; k < symbol.start + symbol.length; ++k) {
            const int32_t token = t.byte_token[static_cast<uint8_t>(word[k])];
            if (token >= 0) out.push_back(token);
        }
    }
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
    if (word.empty()) return;
    if (word.size() > kMaxWordBytes) {  // symbol offsets are 32-bit; such words are absurd
        for (size_t pos = 0; pos < word.size(); pos += kMaxWordBytes) {
            encode_word(word.substr(pos, kMaxWordBytes), out);
        }
        return;
    }
    const Tables& t = *tables_;
    const bool cacheable = t.cache.cacheable(word);
    if (cacheable && t.cache.lookup(word, out)) return;
    Scratch& s = scratch();
    std::vector<int32_t>& ids = s.ids;
    ids.clear();
    bool whole = false;
    if (t.ignore_merges) {
        s.encoded.clear();
        const ByteLevelMap& map = ByteLevelMap::get();
        for (const char c : word) s.encoded.append(map.encode(static_cast<uint8_t>(c)));
        const int32_t id = t.lookup(s.encoded);
        if (id >= 0 && id < t.n_vocab) {
            ids.push_back(id);
            whole = true;
        }
    }
    if (!whole) merge_word(word, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    if (cacheable) t.cache.store(word, ids);
}

}  // namespace rf::tok
