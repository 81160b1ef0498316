// rf::tok::Tokenizer: text <-> token ids for a GGUF vocabulary (SentencePiece-style or
// byte-level BPE), matching llama.cpp's tokenizer id for id.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/vocab.h"

namespace rf::gguf {
class GgufFile;
}

namespace rf::tok {

// How ids become text. The defaults give back exactly the bytes encode() was given (for
// text without special tokens); the other switches mirror llama.cpp's detokenizer.
struct DecodeOptions {
    bool remove_special = false;        // drop a leading BOS / trailing EOS the model adds
    bool render_special = true;         // control / unknown tokens print their text
    bool strip_leading_space = true;    // SPM: drop the space encode() put before the text
    bool strip_space_after_bos = false; // ... also when the text follows a leading BOS
    bool clean_spaces = false;          // the model's clean-up (" ," -> ","), if it has one
};

class Tokenizer {
public:
    // Resolves the model's defaults (special ids, add_bos, pre-tokenizer) and validates.
    static Result<Tokenizer> create(Vocab vocab);
    static Result<Tokenizer> from_gguf(const gguf::GgufFile& file);

    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;
    ~Tokenizer();

    // add_special: BOS/EOS as the model asks. parse_special: control-token text in `text`
    // becomes that token (user-defined tokens are always matched, as the reference does).
    // Any bytes are accepted, invalid UTF-8 included. Safe to call from many threads.
    std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

    // The bytes a token stands for (control tokens render their text). "" for a bad id.
    std::string token_to_piece(int32_t id) const;
    std::string token_to_piece(int32_t id, bool render_special) const;
    std::string decode(std::span<const int32_t> ids) const;
    std::string decode(std::span<const int32_t> ids, const DecodeOptions& options) const;

    int32_t n_vocab() const;
    bool is_valid(int32_t id) const { return id >= 0 && id < n_vocab(); }
    VocabType type() const;
    const std::string& pre() const;  // the pre-tokenizer family in use ("" for SPM)

    int32_t bos() const;  // kNoToken when the model has none
    int32_t eos() const;
    int32_t eot() const;
    int32_t eom() const;
    int32_t unk() const;
    int32_t pad() const;
    int32_t sep() const;
    bool add_bos() const;
    bool add_eos() const;
    bool add_space_prefix() const;
    // End of generation: eos, eot, eom and the model's other end-of-turn tokens.
    bool is_eog(int32_t id) const;
    std::span<const int32_t> eog_ids() const;
    bool is_control(int32_t id) const;
    uint32_t token_attr(int32_t id) const;  // attr:: bits, 0 for a bad id
    std::string_view token_text(int32_t id) const;  // the vocabulary entry as stored
    std::optional<int32_t> find_token(std::string_view text) const;

    struct State;  // resolved vocabulary and algorithms (tokenizer_state.h)

private:
    explicit Tokenizer(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

// Turns a stream of ids into text piece by piece, never splitting a UTF-8 character:
// bytes of an unfinished character wait for the next token; bytes that can never form a
// character come out as U+FFFD, so every returned string is valid UTF-8.
class StreamingDecoder {
public:
    struct Options {
        bool render_special = false;       // print control tokens (e.g. EOS) as text
        bool strip_leading_space = false;  // SPM: drop the encoder's space before the first
                                           // text piece (when decoding a prompt from its start)
    };
    explicit StreamingDecoder(const Tokenizer& tokenizer) : StreamingDecoder(tokenizer, Options{}) {}
    StreamingDecoder(const Tokenizer& tokenizer, Options options);

    std::string push(int32_t id);  // the text completed by this token (often "")
    std::string flush();           // what is still held back, then a fresh state
    void reset();
    size_t pending_bytes() const { return pending_.size(); }

private:
    const Tokenizer* tokenizer_;
    Options options_;
    std::string pending_;
    bool at_start_ = true;
};

}  // namespace rf::tok
