// Stop-string matching over streamed text: search the held text plus the new piece for a full
// match, otherwise release everything except a suffix that may still grow into a stop string.
#include "sampling/stop_string_matcher.h"

#include <algorithm>
#include <utility>

namespace rf::sampling {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) {
    for (std::string& stop : stops) {
        if (!stop.empty()) stops_.push_back(std::move(stop));
    }
}

void StopStringMatcher::reset() {
    pending_.clear();
    stopped_ = false;
}

StopStringMatcher::Result StopStringMatcher::push(std::string_view text) {
    Result result;
    if (stopped_) return result;
    pending_.append(text);

    size_t best_pos = std::string::npos;
    const std::string* best = nullptr;
    for (const std::string& stop : stops_) {
        const size_t pos = pending_.find(stop);
        if (pos == std::string::npos) continue;
        if (pos < best_pos || (pos == best_pos && stop.size() > best->size())) {
            best_pos = pos;
            best = &stop;
        }
    }
    if (best != nullptr) {
        result.text = pending_.substr(0, best_pos);
        result.stopped = true;
        result.stop = *best;
        pending_.clear();
        stopped_ = true;
        return result;
    }
    const size_t hold = partial_suffix_length();
    result.text = pending_.substr(0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
    return result;
}

std::string StopStringMatcher::flush() {
    std::string out;
    out.swap(pending_);
    return out;
}

size_t StopStringMatcher::partial_suffix_length() const {
    size_t longest = 0;
    for (const std::string& stop : stops_) {
        // A full match was already ruled out, so only proper prefixes (< stop.size()) matter.
        const size_t max_len = std::min(stop.size() - 1, pending_.size());
        for (size_t len = max_len; len > longest; --len) {
            if (std::string_view(pending_).substr(pending_.size() - len) == std::string_view(stop).substr(0, len)) {
                longest = len;
                break;
            }
        }
    }
    return longest;
}

}  // namespace rf::sampling
