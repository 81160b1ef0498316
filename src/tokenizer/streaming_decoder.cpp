// StreamingDecoder: token pieces in, complete UTF-8 characters out.
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace rf::tok {

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer, Options options)
    : tokenizer_(&tokenizer), options_(options) {}

void StreamingDecoder::reset() {
    pending_.clear();
    at_start_ = true;
}

std::string StreamingDecoder::push(int32_t id) {
    std::string piece = tokenizer_->token_to_piece(id, options_.render_special);
    if (at_start_) {
        // The first token after an optional BOS carries the encoder's space prefix.
        const bool is_bos = id == tokenizer_->bos() && id != kNoToken;
        if (!is_bos) {
            at_start_ = false;
            if (options_.strip_leading_space && tokenizer_->add_space_prefix() &&
                !piece.empty() && piece.front() == ' ') {
                piece.erase(0, 1);
            }
        }
    }
    pending_ += piece;

    // Emit every complete character; hold a valid-but-unfinished tail back.
    std::string out;
    size_t i = 0;
    while (i < pending_.size()) {
        const int n = utf8_sequence_length(std::string_view(pending_).substr(i));
        if (n < 0) break;
        if (n == 0) {
            out.append(kReplacementUtf8);  // this byte can never start a character
            ++i;
            continue;
        }
        out.append(pending_, i, static_cast<size_t>(n));
        i += static_cast<size_t>(n);
    }
    pending_.erase(0, i);
    return out;
}

std::string StreamingDecoder::flush() {
    std::string out = sanitize_utf8(pending_);
    reset();
    return out;
}

}  // namespace rf::tok
