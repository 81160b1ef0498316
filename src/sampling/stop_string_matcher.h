// Holds generated text back while it could still be the start of a stop string, so a stop string
// never reaches the user even when it arrives split across several tokens.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rf::sampling {

class StopStringMatcher {
public:
    // Empty stop strings are ignored.
    explicit StopStringMatcher(std::vector<std::string> stops);

    struct Result {
        std::string text;      // safe to show now (never contains any part of a stop string)
        bool stopped = false;  // a stop string was found: generation should end
        std::string stop;      // which one (the earliest in the text; the longest on a tie)
    };

    // Feeds newly detokenized text. After a stop, further input is ignored.
    Result push(std::string_view text);
    // End of generation without a stop: returns the text still held back.
    std::string flush();
    // Bytes currently held back.
    size_t held() const { return pending_.size(); }
    bool stopped() const { return stopped_; }
    void reset();

private:
    // Length of the longest suffix of pending_ that is a proper prefix of some stop string.
    size_t partial_suffix_length() const;

    std::vector<std::string> stops_;
    std::string pending_;
    bool stopped_ = false;
};

}  // namespace rf::sampling
