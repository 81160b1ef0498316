// A bounded, thread-safe cache of finished words -> token ids, shared by all threads that
// encode with one tokenizer. Natural text repeats a small set of words, so most words are
// looked up instead of merged.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rf::tok {

class WordCache {
public:
    static constexpr size_t kMaxWordBytes = 64;  // longer words are rare and not cached

    bool enabled() const { return enabled_; }
    void set_enabled(bool enabled) { enabled_ = enabled; }
    bool cacheable(std::string_view word) const {
        return enabled_ && !word.empty() && word.size() <= kMaxWordBytes;
    }

    // Appends the cached ids of `word` to `out`; false when absent.
    bool lookup(std::string_view word, std::vector<int32_t>& out) const;
    void store(std::string_view word, const std::vector<int32_t>& ids) const;
    size_t size() const;

private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    static constexpr size_t kShards = 16;
    static constexpr size_t kShardCapacity = 16384;  // words per shard before it is cleared
    struct Shard {
        std::mutex mutex;
        std::unordered_map<std::string, std::vector<int32_t>, Hash, std::equal_to<>> words;
    };
    Shard& shard(std::string_view word) const { return shards_[Hash{}(word) % kShards]; }

    mutable std::array<Shard, kShards> shards_;
    bool enabled_ = true;
};

}  // namespace rf::tok
