// Tokenizer: special-token partition, then SentencePiece or byte-level BPE per text fragment;
// decoding through the per-token piece cache.
#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "tokenizer/tokenizer_state.h"
#include "tokenizer/unicode.h"

namespace rf::tok {
namespace {

// HF's clean_up_tokenization_spaces as llama.cpp applies it, three in-place passes:
// " ?" " !" " ." " ," lose the space; a lone " ' " loses both spaces; " 's" " 'm" " 're"
// " 've" lose the space.
void clean_up_spaces(std::string& t) {
    auto pass = [&t](auto&& step) {
        const size_t n = t.size();
        size_t total = n > 0 ? 1 : 0;
        for (size_t i = 1; i < n; ++i) step(i, total, n);
        t.resize(total);
    };
    pass([&t](size_t& i, size_t& total, size_t) {
        const char x = t[i];
        if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --total;
        t[total++] = x;
    });
    pass([&t](size_t& i, size_t& total, size_t n) {
        const char x = t[i];
        if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
            --total;
            t[++i] = '\0';
        }
        t[total++] = x;
    });
    pass([&t](size_t& i, size_t& total, size_t n) {
        const char x = t[i];
        if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
            const char x1 = t[i + 1];
            if (x1 == 's' || x1 == 'm') {
                --total;
            } else if (i + 2 < n) {
                const char x2 = t[i + 2];
                if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --total;
            }
        }
        t[total++] = x;
    });
}

void append_spm_escaped(std::string& out, std::string_view text) {
    for (const char c : text) {
        if (c == ' ') {
            out.append(kSpmSpace);
        } else {
            out += c;
        }
    }
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::create(Vocab vocab) {
    RF_ASSIGN_OR_RETURN(std::unique_ptr<State> state, resolve_vocab(std::move(vocab)));
    return Tokenizer(std::move(state));
}

Result<Tokenizer> Tokenizer::from_gguf(const gguf::GgufFile& file) {
    RF_ASSIGN_OR_RETURN(Vocab vocab, load_vocab(file));
    return create(std::move(vocab));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
    const State& s = *state_;
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    std::vector<Fragment> fragments;
    s.special.partition(text, parse_special, fragments);
    if (add_special && s.add_bos) out.push_back(s.bos);

    if (s.type == VocabType::kWpm) {
        for (const Fragment& fragment : fragments) {
            if (fragment.is_text()) {
#ifdef RF_TOKENIZER_HAVE_ICU
                wpm_encode(s, text.substr(fragment.offset, fragment.length), out);
#endif  // without ICU, resolving the vocabulary refused WordPiece
            } else {
                out.push_back(fragment.token);
            }
        }
        if (add_special && s.add_sep) out.push_back(s.sep);
    } else if (s.type == VocabType::kSpm) {
        bool after_special = true;  // the space prefix goes before the first text and after
                                    // every special token
        std::string escaped;
        for (const Fragment& fragment : fragments) {
            if (!fragment.is_text()) {
                out.push_back(fragment.token);
                after_special = true;
                continue;
            }
            escaped.clear();
            if (s.add_space_prefix && after_special) escaped.append(kSpmSpace);
            append_spm_escaped(escaped, text.substr(fragment.offset, fragment.length));
            spm_encode(s, escaped, out);
            after_special = false;
        }
    } else {
        std::vector<std::string_view> words;
        for (const Fragment& fragment : fragments) {
            if (!fragment.is_text()) {
                out.push_back(fragment.token);
                continue;
            }
            words.clear();
            s.splitter->split(text.substr(fragment.offset, fragment.length), words);
            for (const std::string_view word : words) s.bpe->encode_word(word, out);
        }
    }
    if (add_special && s.add_eos) out.push_back(s.eos);
    return out;
}

std::string Tokenizer::token_to_piece(int32_t id) const { return token_to_piece(id, true); }

std::string Tokenizer::token_to_piece(int32_t id, bool render_special) const {
    const State& s = *state_;
    if (!s.valid(id)) return {};
    if (!render_special && (s.attrs[id] & (attr::kControl | attr::kUnknown))) return {};
    return s.pieces[id];
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
    return decode(ids, DecodeOptions{});
}

std::string Tokenizer::decode(std::span<const int32_t> ids, const DecodeOptions& options) const {
    const State& s = *state_;
    const bool leading_bos = !ids.empty() && s.bos != kNoToken && ids[0] == s.bos;
    size_t begin = 0;
    size_t end = ids.size();
    if (options.remove_special && s.add_bos && leading_bos) ++begin;
    if (options.remove_special && s.add_eos && end > begin && ids[end - 1] == s.eos) --end;
    // The token that carries the encoder's space prefix. After a BOS the reference keeps the
    // space unless asked otherwise.
    size_t strip_at = ids.size();
    if (s.add_space_prefix && options.strip_leading_space) {
        if (!leading_bos) {
            strip_at = 0;
        } else if (options.strip_space_after_bos) {
            strip_at = 1;
        }
    }
    std::string text;
    for (size_t i = begin; i < end; ++i) {
        const int32_t id = ids[i];
        if (!s.valid(id)) continue;
        if (!options.render_special && (s.attrs[id] & (attr::kControl | attr::kUnknown))) continue;
        std::string_view piece = s.pieces[id];
        if (i == strip_at && !piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
        text.append(piece);
    }
    if (options.clean_spaces && s.clean_spaces) clean_up_spaces(text);
    return text;
}

int32_t Tokenizer::n_vocab() const { return state_->n_vocab(); }
VocabType Tokenizer::type() const { return state_->type; }
const std::string& Tokenizer::pre() const { return state_->pre; }
int32_t Tokenizer::bos() const { return state_->bos; }
int32_t Tokenizer::eos() const { return state_->eos; }
int32_t Tokenizer::eot() const { return state_->eot; }
int32_t Tokenizer::eom() const { return state_->eom; }
int32_t Tokenizer::unk() const { return state_->unk; }
int32_t Tokenizer::pad() const { return state_->pad; }
int32_t Tokenizer::sep() const { return state_->sep; }
bool Tokenizer::add_bos() const { return state_->add_bos; }
bool Tokenizer::add_eos() const { return state_->add_eos; }
bool Tokenizer::add_space_prefix() const { return state_->add_space_prefix; }

bool Tokenizer::is_eog(int32_t id) const {
    return id != kNoToken && std::binary_search(state_->eog.begin(), state_->eog.end(), id);
}

std::span<const int32_t> Tokenizer::eog_ids() const { return state_->eog; }

bool Tokenizer::is_control(int32_t id) const {
    return state_->valid(id) && (state_->attrs[id] & attr::kControl) != 0;
}

uint32_t Tokenizer::token_attr(int32_t id) const {
    return state_->valid(id) ? state_->attrs[id] : 0;
}

std::string_view Tokenizer::token_text(int32_t id) const {
    return state_->valid(id) ? std::string_view(state_->tokens[id]) : std::string_view();
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
    const int32_t id = state_->find(text);
    if (id == kNoToken) return std::nullopt;
    return id;
}

}  // namespace rf::tok
