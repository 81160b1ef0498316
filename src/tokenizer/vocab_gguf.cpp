// load_vocab: the `tokenizer.ggml.*` keys of a GGUF file -> Vocab, with precise errors.
#include <limits>

#include "core/log.h"
#include "gguf/gguf_file.h"
#include "gguf/keys.h"
#include "tokenizer/vocab.h"

namespace rf::tok {
namespace {

using gguf::Array;
using gguf::GgufFile;
using gguf::Value;
using gguf::ValueType;
namespace keys = gguf::keys;

bool is_integer_type(ValueType type) {
    switch (type) {
        case ValueType::kUint8: case ValueType::kInt8: case ValueType::kUint16:
        case ValueType::kInt16: case ValueType::kUint32: case ValueType::kInt32:
        case ValueType::kUint64: case ValueType::kInt64: return true;
        default: return false;
    }
}

// The array under `key` with string elements; nullptr when absent and not `required`.
Result<const Array*> string_array(const GgufFile& file, std::string_view key, bool required) {
    const Value* value = file.find(key);
    if (value == nullptr) {
        if (required) return error("missing key '{}'", key);
        return static_cast<const Array*>(nullptr);
    }
    if (!value->is_array() || value->as_array().element_type != ValueType::kString) {
        return error("key '{}' must be an array of strings, found {}", key,
                     gguf::value_type_name(value->is_array() ? value->as_array().element_type
                                                             : value->type));
    }
    return &value->as_array();
}

// Scores: float or integer arrays (some converters write i32); absent -> empty.
Result<std::vector<float>> read_scores(const GgufFile& file, size_t n_tokens) {
    const Value* value = file.find(keys::kTokenizerScores);
    if (value == nullptr) return std::vector<float>{};
    if (!value->is_array()) return error("key '{}' must be an array", keys::kTokenizerScores);
    const Array& array = value->as_array();
    const bool numeric = array.element_type == ValueType::kFloat32 ||
                         array.element_type == ValueType::kFloat64 ||
                         array.element_type == ValueType::kInt32;
    if (!numeric) {
        return error("key '{}' must hold f32 or i32 values, found {}", keys::kTokenizerScores,
                     gguf::value_type_name(array.element_type));
    }
    if (array.items.size() < n_tokens) {
        return error("key '{}' has {} entries but there are {} tokens", keys::kTokenizerScores,
                     array.items.size(), n_tokens);
    }
    std::vector<float> scores(n_tokens);
    for (size_t i = 0; i < n_tokens; ++i) scores[i] = static_cast<float>(array.items[i].as_f64());
    return scores;
}

// Token types: i32 values; unknown values become kUndefined as the reference loader does.
Result<std::vector<int32_t>> read_types(const GgufFile& file, size_t n_tokens) {
    const Value* value = file.find(keys::kTokenizerTokenType);
    if (value == nullptr) return std::vector<int32_t>{};
    if (!value->is_array() || !is_integer_type(value->as_array().element_type)) {
        return error("key '{}' must be an array of integers", keys::kTokenizerTokenType);
    }
    const Array& array = value->as_array();
    if (array.items.size() < n_tokens) {
        return error("key '{}' has {} entries but there are {} tokens",
                     keys::kTokenizerTokenType, array.items.size(), n_tokens);
    }
    std::vector<int32_t> types(n_tokens);
    size_t n_bad = 0;
    for (size_t i = 0; i < n_tokens; ++i) {
        const Value& item = array.items[i];
        const bool is_signed = std::holds_alternative<int64_t>(item.data);
        const int64_t t = is_signed ? std::get<int64_t>(item.data)
                                    : static_cast<int64_t>(std::min<uint64_t>(
                                          std::get<uint64_t>(item.data), 1000));
        if (t < 0 || t > static_cast<int64_t>(TokenType::kByte)) {
            ++n_bad;
            types[i] = static_cast<int32_t>(TokenType::kUndefined);
        } else {
            types[i] = static_cast<int32_t>(t);
        }
    }
    if (n_bad > 0) log::warn("tokenizer: {} token types out of range, treated as undefined", n_bad);
    return types;
}

// A special-token id: any integer type; negative values mean "none" in some converters.
Result<std::optional<int64_t>> read_id(const GgufFile& file, std::string_view key) {
    const Value* value = file.find(key);
    if (value == nullptr) return std::optional<int64_t>{};
    if (!value->is_integer()) {
        return error("key '{}' must be an integer, found {}", key,
                     gguf::value_type_name(value->type));
    }
    if (std::holds_alternative<int64_t>(value->data)) {
        const int64_t id = std::get<int64_t>(value->data);
        if (id < 0) return std::optional<int64_t>{};
        return std::optional<int64_t>{id};
    }
    const uint64_t id = std::get<uint64_t>(value->data);
    return std::optional<int64_t>{static_cast<int64_t>(
        std::min<uint64_t>(id, static_cast<uint64_t>(std::numeric_limits<int64_t>::max())))};
}

Status read_special_ids(const GgufFile& file, SpecialIds& s) {
    const std::pair<std::string_view, std::optional<int64_t>*> keys[] = {
        {keys::kTokenizerBosId, &s.bos},          {keys::kTokenizerEosId, &s.eos},
        {keys::kTokenizerEotId, &s.eot},          {keys::kTokenizerEomId, &s.eom},
        {keys::kTokenizerUnknownId, &s.unk},      {keys::kTokenizerSeparatorId, &s.sep},
        {keys::kTokenizerPaddingId, &s.pad},      {keys::kTokenizerMaskId, &s.mask},
        {keys::kTokenizerFimPreId, &s.fim_pre},   {keys::kTokenizerFimSufId, &s.fim_suf},
        {keys::kTokenizerFimMidId, &s.fim_mid},   {keys::kTokenizerFimPadId, &s.fim_pad},
        {keys::kTokenizerFimRepId, &s.fim_rep},   {keys::kTokenizerFimSepId, &s.fim_sep},
        // Older files name the fill-in-the-middle ids differently.
        {"tokenizer.ggml.prefix_token_id", &s.fim_pre},
        {"tokenizer.ggml.suffix_token_id", &s.fim_suf},
        {"tokenizer.ggml.middle_token_id", &s.fim_mid},
    };
    for (const auto& [key, slot] : keys) {
        RF_ASSIGN_OR_RETURN(const std::optional<int64_t> id, read_id(file, key));
        if (id.has_value()) *slot = id;
    }
    return Status::ok();
}

Status read_flags(const GgufFile& file, Vocab& vocab) {
    RF_ASSIGN_OR_RETURN(vocab.add_bos, file.get_bool_opt(keys::kTokenizerAddBos));
    RF_ASSIGN_OR_RETURN(vocab.add_eos, file.get_bool_opt(keys::kTokenizerAddEos));
    RF_ASSIGN_OR_RETURN(vocab.add_sep, file.get_bool_opt("tokenizer.ggml.add_sep_token"));
    RF_ASSIGN_OR_RETURN(vocab.add_space_prefix, file.get_bool_opt(keys::kTokenizerAddSpacePrefix));
    RF_ASSIGN_OR_RETURN(vocab.remove_extra_whitespaces,
                        file.get_bool_opt(keys::kTokenizerRemoveExtraWhitespaces));
    RF_ASSIGN_OR_RETURN(vocab.lowercase, file.get_bool_opt("tokenizer.ggml.normalizer.lowercase"));
    RF_ASSIGN_OR_RETURN(vocab.strip_accents,
                        file.get_bool_opt("tokenizer.ggml.normalizer.strip_accents"));
    return Status::ok();
}

Status read_tokens(const GgufFile& file, Vocab& vocab) {
    RF_ASSIGN_OR_RETURN(const Array* tokens, string_array(file, keys::kTokenizerTokens, true));
    vocab.tokens.reserve(tokens->items.size());
    size_t n_empty = 0;
    for (size_t i = 0; i < tokens->items.size(); ++i) {
        const std::string& text = tokens->items[i].as_string();
        if (text.empty()) {
            // Kept addressable under a name that can never match input text by accident.
            vocab.tokens.push_back(fmt::format("[EMPTY_{}]", i));
            ++n_empty;
        } else {
            vocab.tokens.push_back(text);
        }
    }
    if (n_empty > 0) log::warn("tokenizer: {} empty tokens renamed [EMPTY_<id>]", n_empty);
    return Status::ok();
}

}  // namespace

Result<Vocab> load_vocab(const GgufFile& file) {
    Vocab vocab;
    RF_ASSIGN_OR_RETURN(vocab.model, file.get_string(keys::kTokenizerModel));
    RF_ASSIGN_OR_RETURN(const std::optional<std::string> pre,
                        file.get_string_opt(keys::kTokenizerPre));
    vocab.pre = pre.value_or("");
    RF_ASSIGN_OR_RETURN(const std::optional<std::string> name, file.get_string_opt(keys::kGeneralName));
    vocab.name = name.value_or("");

    RF_RETURN_IF_ERROR(read_tokens(file, vocab));
    RF_ASSIGN_OR_RETURN(vocab.scores, read_scores(file, vocab.tokens.size()));
    RF_ASSIGN_OR_RETURN(vocab.types, read_types(file, vocab.tokens.size()));

    RF_ASSIGN_OR_RETURN(const Array* merges, string_array(file, keys::kTokenizerMerges, false));
    if (merges != nullptr) {
        vocab.merges.reserve(merges->items.size());
        for (size_t i = 0; i < merges->items.size(); ++i) {
            RF_ASSIGN_OR_RETURN(auto merge, parse_merge(merges->items[i].as_string(), i));
            vocab.merges.push_back(std::move(merge));
        }
    }
    RF_RETURN_IF_ERROR(read_special_ids(file, vocab.special));
    RF_RETURN_IF_ERROR(read_flags(file, vocab));
    RF_RETURN_IF_ERROR(validate_vocab(vocab));
    return vocab;
}

}  // namespace rf::tok
