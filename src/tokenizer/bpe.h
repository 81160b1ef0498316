// Byte-level BPE on one pre-tokenized word: GPT-2 byte mapping, rank-ordered merges over
// integer symbol ids, and a shared cache of finished words.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace rf::tok {

class BpeModel {
public:
    // `tokens` in id order must outlive the model (it keeps views into them); merges in rank
    // order. ignore_merges: a word that is itself a token is emitted whole (llama-3 style).
    static Result<BpeModel> create(const std::vector<std::string>& tokens,
                                   const std::vector<std::pair<std::string, std::string>>& merges,
                                   bool ignore_merges);

    BpeModel(BpeModel&&) noexcept;
    BpeModel& operator=(BpeModel&&) noexcept;
    ~BpeModel();

    // Appends the ids of `word` (raw bytes, before byte-level mapping). Thread-safe.
    void encode_word(std::string_view word, std::vector<int32_t>& out) const;

    size_t n_merges() const;
    size_t cache_size() const;
    void set_cache_enabled(bool enabled);

private:
    struct Tables;  // merge table, symbol interning, cache (bpe.cpp)
    BpeModel();
    void merge_word(std::string_view word, std::vector<int32_t>& out) const;

    std::unique_ptr<Tables> tables_;
};

}  // namespace rf::tok
