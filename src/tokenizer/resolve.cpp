// resolve_vocab: the file's vocabulary + each model family's defaults -> Tokenizer::State.
// Defaults, end-of-generation detection and per-model token attributes follow llama.cpp's
// vocabulary loader so that ids and stop conditions agree with it.
#include <algorithm>
#include <cctype>

#include "core/log.h"
#include "tokenizer/tokenizer_state.h"
#include "tokenizer/unicode.h"

namespace rf::tok {
namespace {

using State = Tokenizer::State;

// DeepSeek's special tokens use U+FF5C and U+2581; literals are split so that no hex escape
// swallows the following letters.
#define RF_FW_BAR "\xEF\xBD\x9C"
#define RF_SPM_SPACE "\xE2\x96\x81"

constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>", "_<EOT>", "[EOT]", "<" RF_FW_BAR "end" RF_SPM_SPACE "of" RF_SPM_SPACE "sentence" RF_FW_BAR ">",
    "<end_of_utterance>"};
constexpr std::string_view kEomTexts[] = {"<|eom_id|>"};
constexpr std::string_view kFimPreTexts[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<" RF_FW_BAR "fim" RF_SPM_SPACE "begin" RF_FW_BAR ">",
    "<PRE>", RF_SPM_SPACE "<PRE>", "<|code_prefix|>", "<|prefix|>"};
constexpr std::string_view kFimSufTexts[] = {
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<" RF_FW_BAR "fim" RF_SPM_SPACE "hole" RF_FW_BAR ">",
    "<SUF>", RF_SPM_SPACE "<SUF>", "<|code_suffix|>", "<|suffix|>"};
constexpr std::string_view kFimMidTexts[] = {
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<" RF_FW_BAR "fim" RF_SPM_SPACE "end" RF_FW_BAR ">",
    "<MID>", RF_SPM_SPACE "<MID>", "<|code_middle|>", "<|middle|>"};
constexpr std::string_view kFimPadTexts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
                                             "[PAD]"};
constexpr std::string_view kFimRepTexts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                             "<REPO>", "<reponame>"};
constexpr std::string_view kFimSepTexts[] = {"<|file_sep|>"};
// Tokens that end generation whatever the metadata says.
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<" RF_FW_BAR "end" RF_SPM_SPACE "of" RF_SPM_SPACE "sentence" RF_FW_BAR ">", "[e~["};
#undef RF_FW_BAR
#undef RF_SPM_SPACE

Result<VocabType> vocab_type_of(const std::string& model) {
    if (model == "llama") return VocabType::kSpm;
    if (model == "gpt2") return VocabType::kBpe;
    if (model == "bert") {
#ifdef RF_TOKENIZER_HAVE_ICU
        return VocabType::kWpm;
#else
        return error("tokenizer model 'bert' (WordPiece) needs ICU, absent from this build");
#endif
    }
    if (model == "no_vocab" || model == "none") return error("the model file has no vocabulary");
    return error("tokenizer model '{}' is not supported (expected 'llama' or 'gpt2')", model);
}

void make_control(State& s, int32_t id) {
    if ((s.attrs[id] & attr::kControl) == 0) {
        log::debug("tokenizer: token {} '{}' treated as a control token", id, s.tokens[id]);
        s.attrs[id] |= attr::kControl;
    }
}

// Sets `slot` to the first token found among `texts` when the file named none.
void detect(State& s, int32_t& slot, std::span<const std::string_view> texts) {
    if (slot != kNoToken) return;
    for (const std::string_view text : texts) {
        const int32_t id = s.find(text);
        if (id != kNoToken) {
            slot = id;
            make_control(s, id);
            return;
        }
    }
}

Status resolve_special_ids(State& s, const SpecialIds& file) {
    const int64_t n = s.n_vocab();
    const std::pair<int32_t*, const std::optional<int64_t>*> slots[] = {
        {&s.bos, &file.bos},         {&s.eos, &file.eos},         {&s.eot, &file.eot},
        {&s.eom, &file.eom},         {&s.unk, &file.unk},         {&s.sep, &file.sep},
        {&s.pad, &file.pad},         {&s.mask, &file.mask},       {&s.fim_pre, &file.fim_pre},
        {&s.fim_suf, &file.fim_suf}, {&s.fim_mid, &file.fim_mid}, {&s.fim_pad, &file.fim_pad},
        {&s.fim_rep, &file.fim_rep}, {&s.fim_sep, &file.fim_sep},
    };
    for (const auto& [slot, value] : slots) {
        if (*slot >= n) *slot = kNoToken;  // a family default this vocabulary is too small for
        if (!value->has_value()) continue;
        if (**value < 0 || **value >= n) {
            // Real files carry such ids (e.g. a pad id one past the end): keep the default.
            log::warn("tokenizer: special token id {} is out of range (n_vocab {}); ignored",
                      **value, n);
            continue;
        }
        *slot = static_cast<int32_t>(**value);
    }
    if (s.add_bos && s.bos == kNoToken) {
        return error("tokenizer.ggml.add_bos_token is true but there is no BOS token id");
    }
    if (s.add_eos && s.eos == kNoToken) {
        return error("tokenizer.ggml.add_eos_token is true but there is no EOS token id");
    }
    if (s.type == VocabType::kWpm && s.add_sep && s.sep == kNoToken) {
        return error("tokenizer.ggml.add_sep_token is true but there is no separator token id");
    }
    return Status::ok();
}

void add_eog(State& s, int32_t id) {
    if (id != kNoToken && std::find(s.eog.begin(), s.eog.end(), id) == s.eog.end()) {
        s.eog.push_back(id);
    }
}

bool eog_has(const State& s, std::string_view text, int32_t* id_out = nullptr) {
    for (const int32_t id : s.eog) {
        if (s.tokens[id] == text) {
            if (id_out != nullptr) *id_out = id;
            return true;
        }
    }
    return false;
}

// EOT/EOM/FIM detection by text, unused control tokens, and the end-of-generation set.
void resolve_eog(State& s) {
    detect(s, s.eot, kEotTexts);
    detect(s, s.eom, kEomTexts);
    detect(s, s.fim_pre, kFimPreTexts);
    detect(s, s.fim_suf, kFimSufTexts);
    detect(s, s.fim_mid, kFimMidTexts);
    detect(s, s.fim_pad, kFimPadTexts);
    detect(s, s.fim_rep, kFimRepTexts);
    detect(s, s.fim_sep, kFimSepTexts);
    for (int32_t id = 0; id < s.n_vocab(); ++id) {
        if ((s.attrs[id] & attr::kControl) && s.tokens[id].find("unused") != std::string::npos) {
            s.attrs[id] |= attr::kUnused;
        }
    }
    add_eog(s, s.fim_pad);
    add_eog(s, s.fim_rep);
    add_eog(s, s.fim_sep);
    for (const std::string_view text : kEogTexts) {
        const int32_t id = s.find(text);
        if (id == kNoToken) continue;
        add_eog(s, id);
        make_control(s, id);
    }
    // gpt-oss: these structure tokens always print.
    for (const std::string_view text : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
        const int32_t id = s.find(text);
        if (id != kNoToken) s.attrs[id] = attr::kUserDefined;
    }
    add_eog(s, s.eos);
    add_eog(s, s.eot);
    add_eog(s, s.eom);
    // Harmony-style vocabularies: "<|end|>" separates messages and must not stop generation.
    int32_t end_id = kNoToken;
    const bool has_call = eog_has(s, "<|call|>") || eog_has(s, "<|calls|>");
    if (eog_has(s, "<|end|>", &end_id) && has_call &&
        (eog_has(s, "<|return|>") || eog_has(s, "<|flush|>"))) {
        s.eog.erase(std::find(s.eog.begin(), s.eog.end(), end_id));
        s.attrs[end_id] = attr::kUserDefined;
    }
    int32_t close_id = kNoToken;
    if (eog_has(s, "<|tool_response>") && eog_has(s, "</s>", &close_id)) {
        s.eog.erase(std::find(s.eog.begin(), s.eog.end(), close_id));
        s.attrs[close_id] = attr::kNormal;
    }
    std::sort(s.eog.begin(), s.eog.end());
}

void set_attr(State& s, std::string_view text, uint32_t bit, bool on) {
    const int32_t id = s.find(text);
    if (id == kNoToken) return;
    s.attrs[id] = on ? (s.attrs[id] | bit) : (s.attrs[id] & ~bit);
}

// Strip flags some models give their special tokens (not stored in GGUF files).
void apply_model_attrs(State& s, const std::string& model_name, const std::string& pre) {
    std::string name = model_name;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (pre == "jina-v2-de" || pre == "jina-v2-es" || pre == "jina-v2-code") {
        set_attr(s, "<mask>", attr::kLstrip, true);
    } else if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
        for (int32_t id = 0; id < s.n_vocab(); ++id) {
            const uint32_t special = attr::kControl | attr::kUserDefined | attr::kUnknown;
            if (s.attrs[id] & special) s.attrs[id] |= attr::kRstrip;
        }
        set_attr(s, "</s>", attr::kRstrip, true);
        for (const std::string_view text : {"<unk>", "<s>", "<|endoftext|>"}) {
            set_attr(s, text, attr::kRstrip, false);
        }
    } else if (name.find("modern-bert") != std::string::npos) {
        set_attr(s, "[MASK]", attr::kLstrip, true);
    }
}

// Family defaults before the file's own keys apply.
Status apply_family_defaults(State& s, const Vocab& vocab, PreTokenizerConfig* config) {
    if (s.type == VocabType::kSpm) {
        s.bos = 1;
        s.eos = 2;
        s.unk = 0;
        s.add_space_prefix = true;
        s.add_bos = true;
        return Status::ok();
    }
    if (s.type == VocabType::kWpm) {
        s.bos = 101;  // [CLS]
        s.unk = 100;
        s.sep = 102;
        s.pad = 0;
        s.mask = 103;
        s.add_bos = true;
        s.add_sep = true;
        s.clean_spaces = true;
        return Status::ok();
    }
    RF_ASSIGN_OR_RETURN(*config, pre_tokenizer_config(vocab.pre));
    s.pre = config->name;
    s.bos = config->clear_bos ? kNoToken : 11;
    s.eos = 11;
    s.add_bos = config->add_bos;
    s.add_sep = config->add_sep;
    s.clean_spaces = config->clean_spaces;
    return Status::ok();
}

void build_byte_tokens(State& s) {
    for (int b = 0; b < 256; ++b) {
        int32_t id = kNoToken;
        if (s.type == VocabType::kSpm) {
            id = s.find(fmt::format("<0x{:02X}>", b));
            if (id == kNoToken) id = s.find(std::string(1, static_cast<char>(b)));
        } else {
            id = s.find(ByteLevelMap::get().encode(static_cast<uint8_t>(b)));
        }
        s.byte_tokens[b] = id;
    }
}

// True when every U+2581 inside a token follows another U+2581 (see State::spm_split_words).
bool spaces_only_lead_tokens(const std::vector<std::string>& tokens) {
    for (const std::string& token : tokens) {
        for (size_t pos = token.find(kSpmSpace, 1); pos != std::string::npos;
             pos = token.find(kSpmSpace, pos + 1)) {
            const bool after_space =
                pos >= kSpmSpace.size() &&
                token.compare(pos - kSpmSpace.size(), kSpmSpace.size(), kSpmSpace) == 0;
            if (!after_space) return false;
        }
    }
    return true;
}

}  // namespace

std::string compute_piece(const State& s, int32_t id) {
    const uint32_t a = s.attrs[id];
    const std::string& text = s.tokens[id];
    if (a & (attr::kUnknown | attr::kControl | attr::kUserDefined)) return text;
    if (a & attr::kNormal) {
        std::string out;
        if (s.type == VocabType::kBpe) {
            append_byte_level_decoded(out, text);
            return out;
        }
        for (size_t i = 0; i < text.size();) {  // SentencePiece: U+2581 stands for a space
            if (text.compare(i, kSpmSpace.size(), kSpmSpace) == 0) {
                out += ' ';
                i += kSpmSpace.size();
            } else {
                out += text[i++];
            }
        }
        return out;
    }
    if (a & attr::kByte) {
        unsigned value = 0;
        const bool ok = text.size() == 6 && text.compare(0, 3, "<0x") == 0 && text[5] == '>' &&
                        std::isxdigit(static_cast<unsigned char>(text[3])) &&
                        std::isxdigit(static_cast<unsigned char>(text[4]));
        if (!ok) return text;
        value = static_cast<unsigned>(std::stoul(text.substr(3, 2), nullptr, 16));
        return std::string(1, static_cast<char>(value));
    }
    return {};  // unused / undefined tokens print nothing
}

Result<std::unique_ptr<State>> resolve_vocab(Vocab vocab) {
    RF_RETURN_IF_ERROR(validate_vocab(vocab));
    auto s = std::make_unique<State>();
    RF_ASSIGN_OR_RETURN(s->type, vocab_type_of(vocab.model));
    PreTokenizerConfig config;
    RF_RETURN_IF_ERROR(apply_family_defaults(*s, vocab, &config));
    if (vocab.add_space_prefix) s->add_space_prefix = *vocab.add_space_prefix;
    if (vocab.remove_extra_whitespaces) s->remove_extra_whitespaces = *vocab.remove_extra_whitespaces;
    if (vocab.add_bos) s->add_bos = *vocab.add_bos;
    if (vocab.add_eos) s->add_eos = *vocab.add_eos;
    if (vocab.add_sep) s->add_sep = *vocab.add_sep;
    if (vocab.lowercase) s->wpm_lowercase = *vocab.lowercase;
    s->wpm_strip_accents = vocab.strip_accents.value_or(s->wpm_lowercase);

    const size_t n = vocab.tokens.size();
    s->tokens = std::move(vocab.tokens);
    s->scores = vocab.scores.empty() ? std::vector<float>(n, 0.0f) : std::move(vocab.scores);
    s->attrs.resize(n, attr::kNormal);
    for (size_t i = 0; i < vocab.types.size(); ++i) {
        s->attrs[i] = attr_from_type(static_cast<TokenType>(vocab.types[i]));
    }
    s->token_to_id.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        s->token_to_id.emplace(s->tokens[i], static_cast<int32_t>(i));
        s->max_token_bytes = std::max(s->max_token_bytes, s->tokens[i].size());
    }

    RF_RETURN_IF_ERROR(resolve_special_ids(*s, vocab.special));
    resolve_eog(*s);
    apply_model_attrs(*s, vocab.name, vocab.pre);
    s->special.build(s->tokens, s->attrs);
    build_byte_tokens(*s);
    s->pieces.resize(n);
    for (size_t i = 0; i < n; ++i) s->pieces[i] = compute_piece(*s, static_cast<int32_t>(i));

    if (s->type == VocabType::kSpm) s->spm_split_words = spaces_only_lead_tokens(s->tokens);
    if (s->type == VocabType::kBpe) {
        if (vocab.merges.empty()) log::warn("tokenizer: BPE vocabulary without merges");
        RF_ASSIGN_OR_RETURN(RegexSplitter splitter, RegexSplitter::create(config.regexes));
        s->splitter.emplace(std::move(splitter));
        RF_ASSIGN_OR_RETURN(BpeModel bpe,
                            BpeModel::create(s->tokens, vocab.merges, config.ignore_merges));
        s->bpe.emplace(std::move(bpe));
    }
    return s;
}

}  // namespace rf::tok
