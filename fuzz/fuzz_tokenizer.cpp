// Fuzzes tokenize + detokenize with random bytes (invalid UTF-8 included) across the SPM and
// WordPiece tokenizers and byte-level BPE under many pre-tokenizer regex families. Vocabularies come
// from the shared test data when present, else from small built-in ones.
// Input: byte 0 picks a tokenizer or a bare pre-tokenizer splitter, byte 1 the flags, the
// rest is the text (or token ids).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace {

using rf::tok::Tokenizer;
using rf::tok::Vocab;

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz_tokenizer: property violated: %s\n", what);
        std::abort();
    }
}

Vocab builtin_bpe() {
    Vocab v;
    v.model = "gpt2";
    const auto& map = rf::tok::ByteLevelMap::get();
    for (int b = 0; b < 256; ++b) v.tokens.emplace_back(map.encode(static_cast<uint8_t>(b)));
    const std::vector<std::pair<std::string, std::string>> merges = {
        {"\xC4\xA0", "t"}, {"h", "e"}, {"\xC4\xA0t", "he"}, {"i", "n"}, {"a", "n"}, {"e", "r"}};
    for (const auto& [l, r] : merges) v.tokens.push_back(l + r);
    v.merges = merges;
    v.tokens.push_back("<|endoftext|>");
    v.types.assign(v.tokens.size(), 1);
    v.types.back() = 3;
    v.special.bos = v.special.eos = static_cast<int64_t>(v.tokens.size() - 1);
    return v;
}

Vocab builtin_spm() {
    Vocab v;
    v.model = "llama";
    v.tokens = {"<unk>", "<s>", "</s>"};
    v.types = {2, 3, 3};
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", b);
        v.tokens.emplace_back(name);
        v.types.push_back(6);
    }
    for (const char* piece : {"\xE2\x96\x81", "\xE2\x96\x81t", "he", "\xE2\x96\x81the", "in", "<|u|>"}) {
        v.tokens.emplace_back(piece);
        v.types.push_back(std::string(piece) == "<|u|>" ? 4 : 1);
    }
    v.scores.assign(v.tokens.size(), 0.0f);
    for (size_t i = 0; i < v.tokens.size(); ++i) v.scores[i] = static_cast<float>(v.tokens[i].size());
    return v;
}

Vocab builtin_bert() {
    Vocab v;
    v.model = "bert";
    v.tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "\xE2\x96\x81the", "\xE2\x96\x81" "a",
                "b", "\xE2\x96\x81!", "\xE2\x96\x81\xE6\x88\x91"};
    v.types = {3, 2, 3, 3, 3, 1, 1, 1, 1, 1};
    v.special.bos = 2;
    v.special.unk = 1;
    v.special.sep = 3;
    return v;
}

Vocab load_or(const char* name, Vocab (*fallback)()) {
    const std::string path = std::string(RF_SHARED_TESTDATA) + "/vocab/ggml-vocab-" + name + ".gguf";
    auto file = rf::gguf::GgufFile::open(path);
    if (file.is_ok()) {
        auto vocab = rf::tok::load_vocab(*file);
        if (vocab.is_ok()) return std::move(vocab).value();
    }
    return fallback();
}

// Full tokenizers (built on first use, so start-up stays fast): SPM, two BPE pre-tokenizers
// and WordPiece. Every other pre-tokenizer family is fuzzed through its splitter alone.
constexpr int kNumTokenizers = 4;

const Tokenizer* tokenizer(int index) {
    static std::unique_ptr<Tokenizer> cache[kNumTokenizers];
    std::unique_ptr<Tokenizer>& slot = cache[index];
    if (slot) return slot.get();
    Vocab v;
    if (index == 0) {
        v = load_or("llama-spm", builtin_spm);
    } else if (index == 3) {
        v = builtin_bert();
    } else {
        v = load_or("gpt-2", builtin_bpe);
        v.pre = index == 1 ? "gpt-2" : "llama3";
    }
    auto t = Tokenizer::create(std::move(v));
    if (!t.is_ok()) return nullptr;  // WordPiece needs ICU
    slot = std::make_unique<Tokenizer>(std::move(t).value());
    return slot.get();
}

const std::vector<rf::tok::RegexSplitter>& splitters() {
    static const std::vector<rf::tok::RegexSplitter> all = [] {
        std::vector<rf::tok::RegexSplitter> out;
        for (const std::string_view name : rf::tok::known_pre_tokenizers()) {
            auto config = rf::tok::pre_tokenizer_config(name);
            if (!config.is_ok()) continue;
            auto splitter = rf::tok::RegexSplitter::create(config->regexes);
            require(splitter.is_ok(), "every pre-tokenizer regex compiles");
            out.push_back(std::move(splitter).value());
        }
        return out;
    }();
    return all;
}

// The pieces tile the input exactly: no byte lost, added or empty piece.
void check_split(const rf::tok::RegexSplitter& splitter, const std::string& text) {
    std::vector<std::string_view> pieces;
    splitter.split(text, pieces);
    size_t offset = 0;
    for (const std::string_view piece : pieces) {
        require(!piece.empty(), "no empty piece");
        require(piece.data() == text.data() + offset, "pieces are contiguous");
        offset += piece.size();
    }
    require(offset == text.size(), "pieces cover the text");
}

// Everything a stream of pieces produces is valid UTF-8 and adds up to the decoded text.
void check_stream(const Tokenizer& t, const std::vector<int32_t>& ids, const std::string* expect) {
    rf::tok::StreamingDecoder::Options options;
    options.render_special = true;
    options.strip_leading_space = true;
    rf::tok::StreamingDecoder stream(t, options);
    std::string all;
    for (const int32_t id : ids) {
        const std::string chunk = stream.push(id);
        require(rf::tok::sanitize_utf8(chunk) == chunk, "streamed chunk is valid UTF-8");
        all += chunk;
    }
    all += stream.flush();
    require(rf::tok::sanitize_utf8(all) == all, "flushed stream is valid UTF-8");
    if (expect != nullptr) require(all == rf::tok::sanitize_utf8(*expect), "stream == decode");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const std::string text(reinterpret_cast<const char*>(data + 2), size - 2);
    const size_t n_splitters = splitters().size();
    const size_t pick = data[0] % (kNumTokenizers + n_splitters);
    if (pick >= kNumTokenizers) {
        check_split(splitters()[pick - kNumTokenizers], text);
        return 0;
    }
    const Tokenizer* t = tokenizer(static_cast<int>(pick));
    if (t == nullptr) return 0;
    const uint8_t flags = data[1];
    if (flags & 0x80) {  // the rest are token ids, some out of range
        std::vector<int32_t> ids;
        for (size_t i = 0; i + 1 < text.size(); i += 2) {
            const int32_t raw =
                static_cast<uint8_t>(text[i]) | (static_cast<uint8_t>(text[i + 1]) << 8);
            ids.push_back((flags & 0x40) ? raw - 1000 : raw % (t->n_vocab() + 8));
        }
        (void)t->decode(ids);
        check_stream(*t, ids, nullptr);
        for (const int32_t id : ids) (void)t->token_to_piece(id);
        return 0;
    }
    const bool add_special = flags & 1;
    const bool parse_special = flags & 2;
    const std::vector<int32_t> ids = t->encode(text, add_special, parse_special);
    for (const int32_t id : ids) require(t->is_valid(id), "encode gives valid ids");
    const std::string decoded = t->decode(ids);
    // SentencePiece writes spaces as U+2581, so a literal U+2581 in the input comes back as a
    // space; WordPiece normalizes (case, accents, spaces). Neither round-trips in general.
    const bool exact = t->type() == rf::tok::VocabType::kBpe ||
                       (t->type() == rf::tok::VocabType::kSpm &&
                        text.find(rf::tok::kSpmSpace) == std::string::npos);
    if (!add_special && !parse_special && exact) {
        require(decoded == text, "decode(encode(text)) == text");
        check_stream(*t, ids, &decoded);
    } else {
        check_stream(*t, ids, nullptr);
    }
    return 0;
}
