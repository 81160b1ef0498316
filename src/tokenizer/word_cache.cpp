// WordCache: sharded mutex-protected maps, cleared shard by shard when full.
#include "tokenizer/word_cache.h"

namespace rf::tok {

bool WordCache::lookup(std::string_view word, std::vector<int32_t>& out) const {
    Shard& s = shard(word);
    std::lock_guard<std::mutex> lock(s.mutex);
    const auto it = s.words.find(word);
    if (it == s.words.end()) return false;
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
}

void WordCache::store(std::string_view word, const std::vector<int32_t>& ids) const {
    Shard& s = shard(word);
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.words.size() >= kShardCapacity) s.words.clear();
    s.words.emplace(std::string(word), ids);
}

size_t WordCache::size() const {
    size_t n = 0;
    for (Shard& s : shards_) {
        std::lock_guard<std::mutex> lock(s.mutex);
        n += s.words.size();
    }
    return n;
}

}  // namespace rf::tok
