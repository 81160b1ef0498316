// tokenizer.json import. Byte-level BPE becomes tokenizer.ggml.model "gpt2" (tokens, token types,
// merges, a pre-tokenizer name chosen from the split regex); a SentencePiece-style BPE
// (byte_fallback, "▁" spaces) becomes "llama" with scores from the merge ranks.
#include "hf/tokenizer_import.h"

#include <filesystem>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/mapped_file.h"
#include "gguf/keys.h"

namespace rf::hf {
namespace {

namespace fs = std::filesystem;
namespace keys = gguf::keys;
using json = nlohmann::json;
using gguf::Value;

// llama.cpp token types.
constexpr int32_t kNormal = 1;
constexpr int32_t kControl = 3;
constexpr int32_t kUserDefined = 4;
constexpr int32_t kUnused = 5;
constexpr int32_t kByte = 6;

// Split regexes of the common byte-level BPE tokenizers, and llama.cpp's names for them.
struct KnownPre {
    std::string_view regex;
    std::string_view name;
};
constexpr KnownPre kKnownPre[] = {
    {R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)", "gpt-2"},
    {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     "llama-bpe"},
    {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     "qwen2"},
};

// Walks a pre_tokenizer (possibly a Sequence) collecting Split regexes and ByteLevel use.
void collect_pre(const json& node, std::vector<std::string>& regexes, bool& byte_level_regex) {
    if (!node.is_object()) return;
    const std::string type = node.value("type", "");
    if (type == "Sequence") {
        if (const auto it = node.find("pretokenizers"); it != node.end() && it->is_array()) {
            for (const json& child : *it) collect_pre(child, regexes, byte_level_regex);
        }
    } else if (type == "Split") {
        const auto it = node.find("pattern");
        if (it != node.end() && it->is_object()) {
            const auto re = it->find("Regex");
            if (re != it->end() && re->is_string()) regexes.push_back(re->get<std::string>());
        }
    } else if (type == "ByteLevel") {
        byte_level_regex = byte_level_regex || node.value("use_regex", true);
    }
}

bool mentions_type(const json& node, std::string_view type) {
    if (node.is_object()) {
        if (node.value("type", "") == type) return true;
        for (const auto& [key, child] : node.items()) {
            if (mentions_type(child, type)) return true;
        }
    } else if (node.is_array()) {
        for (const json& child : node) {
            if (mentions_type(child, type)) return true;
        }
    }
    return false;
}

// "bos_token": "<s>" or {"content": "<s>", ...}.
std::optional<std::string> token_text(const json& config, const char* key) {
    const auto it = config.find(key);
    if (it == config.end()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
    return std::nullopt;
}

Result<std::string> read_optional(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::string();
    return read_text_file(path.string());
}

// The chat template: chat_template.jinja, else tokenizer_config.json's chat_template (a string,
// or a list of {name, template} where "default" or the first entry wins).
std::string chat_template_of(const json& config, const std::string& jinja_file) {
    if (!jinja_file.empty()) return jinja_file;
    const auto it = config.find("chat_template");
    if (it == config.end()) return "";
    if (it->is_string()) return it->get<std::string>();
    if (it->is_array()) {
        std::string first;
        for (const json& entry : *it) {
            if (!entry.is_object() || !entry.contains("template") || !entry["template"].is_string()) continue;
            if (first.empty()) first = entry["template"].get<std::string>();
            if (entry.value("name", "") == "default") return entry["template"].get<std::string>();
        }
        return first;
    }
    return "";
}

struct Vocab {
    std::vector<std::string> tokens;
    std::vector<int32_t> types;
    std::vector<float> scores;
    std::vector<std::string> merges;
};

// Tokens by id from model.vocab and added_tokens, padded to n_vocab with "[PAD<i>]".
Result<Vocab> read_vocab(const json& tok, uint32_t n_vocab) {
    const json& model = tok["model"];
    const auto vocab_it = model.find("vocab");
    if (vocab_it == model.end() || !vocab_it->is_object()) return error("tokenizer.json: model.vocab is not an object");
    Vocab v;
    v.tokens.resize(n_vocab);
    v.types.assign(n_vocab, kUnused);
    std::vector<bool> seen(n_vocab, false);
    auto place = [&](const std::string& text, const json& id_json, int32_t type) -> Status {
        if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0) {
            return error("tokenizer.json: token '{}' has an invalid id", text);
        }
        const auto id = id_json.get<uint64_t>();
        if (id >= n_vocab) {
            return error("tokenizer.json: token '{}' has id {} but the model has {} embedding rows", text, id, n_vocab);
        }
        v.tokens[id] = text;
        v.types[id] = type;
        seen[id] = true;
        return Status::ok();
    };
    for (const auto& [text, id] : vocab_it->items()) RF_RETURN_IF_ERROR(place(text, id, kNormal));
    if (const auto added = tok.find("added_tokens"); added != tok.end() && added->is_array()) {
        for (const json& a : *added) {
            if (!a.is_object() || !a.contains("content") || !a["content"].is_string() || !a.contains("id")) {
                return error("tokenizer.json: an added_tokens entry lacks content or id");
            }
            const bool special = a.value("special", false);
            RF_RETURN_IF_ERROR(place(a["content"].get<std::string>(), a["id"], special ? kControl : kUserDefined));
        }
    }
    for (uint32_t i = 0; i < n_vocab; ++i) {
        if (!seen[i]) v.tokens[i] = fmt::format("[PAD{}]", i);
    }
    if (const auto merges = model.find("merges"); merges != model.end() && !merges->is_null()) {
        if (!merges->is_array()) return error("tokenizer.json: model.merges is not an array");
        for (const json& m : *merges) {
            if (m.is_string()) {
                v.merges.push_back(m.get<std::string>());
            } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
                v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
            } else {
                return error("tokenizer.json: a merge is neither \"a b\" nor [\"a\", \"b\"]");
            }
        }
    }
    return v;
}

// SentencePiece-style BPE: "<0xNN>" are byte tokens; a token's score is minus the rank of the
// merge that forms it, which reproduces the merge order when scores pick the next merge.
void spm_scores(Vocab& v) {
    std::map<std::string, size_t> id_of;
    for (size_t i = 0; i < v.tokens.size(); ++i) id_of.emplace(v.tokens[i], i);
    v.scores.assign(v.tokens.size(), 0.0f);
    for (size_t r = 0; r < v.merges.size(); ++r) {
        const std::string& m = v.merges[r];
        const size_t space = m.find(' ');
        if (space == std::string::npos) continue;
        const auto it = id_of.find(m.substr(0, space) + m.substr(space + 1));
        if (it != id_of.end()) v.scores[it->second] = -static_cast<float>(r + 1);
    }
    for (size_t i = 0; i < v.tokens.size(); ++i) {
        const std::string& t = v.tokens[i];
        if (v.types[i] == kNormal && t.size() == 6 && t.rfind("<0x", 0) == 0 && t.back() == '>') v.types[i] = kByte;
    }
}

std::optional<int64_t> id_of_text(const Vocab& v, const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    for (size_t i = 0; i < v.tokens.size(); ++i) {
        if (v.tokens[i] == *text) return static_cast<int64_t>(i);
    }
    return std::nullopt;
}

// BOS is added when tokenizer_config says so, or when the post-processor template starts with it.
std::optional<bool> add_bos_of(const json& config, const json& tok, std::optional<int64_t> bos, const Vocab& v) {
    if (const auto it = config.find("add_bos_token"); it != config.end() && it->is_boolean()) return it->get<bool>();
    const auto pp = tok.find("post_processor");
    if (pp == tok.end() || !bos) return std::nullopt;
    std::vector<const json*> nodes = {&*pp};
    if (pp->is_object() && pp->value("type", "") == "Sequence" && pp->contains("processors")) {
        for (const json& p : (*pp)["processors"]) nodes.push_back(&p);
    }
    for (const json* node : nodes) {
        if (!node->is_object() || node->value("type", "") != "TemplateProcessing") continue;
        const auto single = node->find("single");
        if (single == node->end() || !single->is_array() || single->empty()) return false;
        const json& first = (*single)[0];
        if (first.contains("SpecialToken") && first["SpecialToken"].contains("id")) {
            return first["SpecialToken"]["id"] == json(v.tokens[static_cast<size_t>(*bos)]);
        }
        return false;
    }
    return std::nullopt;
}

}  // namespace

std::string detect_pre_tokenizer(const std::string& pre_tokenizer_json) {
    const json node = json::parse(pre_tokenizer_json, nullptr, false);
    std::vector<std::string> regexes;
    bool byte_level_regex = false;
    collect_pre(node, regexes, byte_level_regex);
    if (regexes.empty()) return byte_level_regex ? "gpt-2" : "default";
    for (const KnownPre& known : kKnownPre) {
        if (regexes.front() == known.regex) return std::string(known.name);
    }
    return "default";
}

TokenizerMetadata minimal_vocab(uint32_t n_vocab, const HfConfig& config) {
    TokenizerMetadata out;
    std::vector<std::string> tokens;
    std::vector<int32_t> types;
    // GPT-2's printable stand-ins for the 256 byte values, so byte-level BPE decodes them.
    for (uint32_t b = 0, extra = 0; b < 256 && tokens.size() < n_vocab; ++b) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
        const uint32_t cp = printable ? b : 256 + extra++;
        std::string utf8;
        if (cp < 0x80) {
            utf8.push_back(static_cast<char>(cp));
        } else {
            utf8.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            utf8.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
        tokens.push_back(utf8);
        types.push_back(kNormal);
    }
    while (tokens.size() < n_vocab) {
        tokens.push_back(fmt::format("[PAD{}]", tokens.size()));
        types.push_back(kUnused);
    }
    out.entries.emplace_back(std::string(keys::kTokenizerModel), Value::string("gpt2"));
    out.entries.emplace_back(std::string(keys::kTokenizerPre), Value::string("default"));
    out.entries.emplace_back(std::string(keys::kTokenizerTokens), Value::string_array(tokens));
    out.entries.emplace_back(std::string(keys::kTokenizerTokenType), Value::i32_array(types));
    out.entries.emplace_back(std::string(keys::kTokenizerMerges), Value::string_array({}));
    if (config.bos_id && *config.bos_id < n_vocab) {
        out.entries.emplace_back(std::string(keys::kTokenizerBosId), Value::u32(static_cast<uint32_t>(*config.bos_id)));
    }
    if (config.eos_id && *config.eos_id < n_vocab) {
        out.entries.emplace_back(std::string(keys::kTokenizerEosId), Value::u32(static_cast<uint32_t>(*config.eos_id)));
    }
    out.entries.emplace_back(std::string(keys::kTokenizerAddBos), Value::boolean(false));
    out.summary = fmt::format("minimal byte vocabulary, {} tokens", n_vocab);
    return out;
}

Result<TokenizerMetadata> import_tokenizer(const std::string& dir, const HfConfig& config) {
    const fs::path root(dir);
    RF_ASSIGN_OR_RETURN(const std::string tok_text, read_optional(root / "tokenizer.json"));
    RF_ASSIGN_OR_RETURN(const std::string config_text, read_optional(root / "tokenizer_config.json"));
    RF_ASSIGN_OR_RETURN(const std::string jinja, read_optional(root / "chat_template.jinja"));
    const json tok = tok_text.empty() ? json() : json::parse(tok_text, nullptr, false);
    json tconfig = config_text.empty() ? json::object() : json::parse(config_text, nullptr, false);
    if (tconfig.is_discarded() || !tconfig.is_object()) return error("tokenizer_config.json: not a JSON object");

    const bool usable = tok.is_object() && tok.contains("model") && tok["model"].is_object() &&
                        tok["model"].value("type", "") == "BPE";
    if (!usable) {
        TokenizerMetadata out = minimal_vocab(config.n_vocab, config);
        if (tok_text.empty()) {
            out.warnings.push_back("no tokenizer.json: writing a minimal byte vocabulary (token ids still work)");
        } else {
            out.warnings.push_back("tokenizer.json is not a BPE tokenizer we import: writing a minimal byte vocabulary");
        }
        return out;
    }
    RF_ASSIGN_OR_RETURN(Vocab v, read_vocab(tok, config.n_vocab));
    const bool byte_level = mentions_type(tok.value("pre_tokenizer", json()), "ByteLevel") ||
                            mentions_type(tok.value("decoder", json()), "ByteLevel");
    TokenizerMetadata out;
    std::string pre;
    if (byte_level) {
        pre = detect_pre_tokenizer(tok.value("pre_tokenizer", json()).dump());
        if (pre == "default") out.warnings.push_back("unrecognised pre-tokenizer regex: tokenizer.ggml.pre = \"default\"");
    } else {
        spm_scores(v);
    }
    out.entries.emplace_back(std::string(keys::kTokenizerModel), Value::string(byte_level ? "gpt2" : "llama"));
    if (byte_level) out.entries.emplace_back(std::string(keys::kTokenizerPre), Value::string(pre));
    out.entries.emplace_back(std::string(keys::kTokenizerTokens), Value::string_array(v.tokens));
    if (!byte_level) out.entries.emplace_back(std::string(keys::kTokenizerScores), Value::f32_array(v.scores));
    out.entries.emplace_back(std::string(keys::kTokenizerTokenType), Value::i32_array(v.types));
    if (byte_level) out.entries.emplace_back(std::string(keys::kTokenizerMerges), Value::string_array(v.merges));

    std::optional<int64_t> bos = id_of_text(v, token_text(tconfig, "bos_token"));
    std::optional<int64_t> eos = id_of_text(v, token_text(tconfig, "eos_token"));
    if (!bos && config.bos_id && *config.bos_id < config.n_vocab) bos = config.bos_id;
    if (!eos && config.eos_id && *config.eos_id < config.n_vocab) eos = config.eos_id;
    const std::optional<int64_t> unk = id_of_text(v, token_text(tconfig, "unk_token"));
    const std::optional<int64_t> pad = id_of_text(v, token_text(tconfig, "pad_token"));
    for (auto [key, id] : {std::pair{keys::kTokenizerBosId, bos}, std::pair{keys::kTokenizerEosId, eos},
                           std::pair{keys::kTokenizerUnknownId, unk}, std::pair{keys::kTokenizerPaddingId, pad}}) {
        if (id) out.entries.emplace_back(std::string(key), Value::u32(static_cast<uint32_t>(*id)));
    }
    if (const std::optional<bool> add_bos = add_bos_of(tconfig, tok, bos, v)) {
        out.entries.emplace_back(std::string(keys::kTokenizerAddBos), Value::boolean(*add_bos));
    }
    if (const auto it = tconfig.find("add_eos_token"); it != tconfig.end() && it->is_boolean()) {
        out.entries.emplace_back(std::string(keys::kTokenizerAddEos), Value::boolean(it->get<bool>()));
    }
    const std::string chat_template = chat_template_of(tconfig, jinja);
    if (!chat_template.empty()) {
        out.entries.emplace_back(std::string(keys::kTokenizerChatTemplate), Value::string(chat_template));
    }
    out.summary = fmt::format("{} tokenizer, {} tokens, {} merges{}{}", byte_level ? "byte-level BPE (gpt2)" : "SentencePiece-style BPE (llama)",
                              v.tokens.size(), v.merges.size(), byte_level ? ", pre " + pre : "",
                              chat_template.empty() ? "" : ", chat template");
    return out;
}

}  // namespace rf::hf
