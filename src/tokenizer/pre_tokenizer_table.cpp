// The regexes behind every `tokenizer.ggml.pre` value: the patterns of the models' own
// tokenizer.json files (as collected by llama.cpp's vocabulary loader), kept as facts.
#include <array>

#include "core/log.h"
#include "tokenizer/pre_tokenizer.h"

namespace rf::tok {
namespace {

// GPT-2's pattern; most older byte-level models reuse it.
constexpr const char* kReGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Llama 3 (also dbrx, smaug, chatglm4): case-insensitive contractions, digits in threes.
constexpr const char* kReLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kReJais2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1})";
// Qwen 2 (also stablelm2, hunyuan, grok-2, solar-open): single digits.
constexpr const char* kReQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kReQwen35 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// GPT-4o / o200k (also llama4, minimax-m2): case-aware words with attached contractions.
constexpr const char* kReGpt4o =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kReTekken =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kReGraniteEmbMulti =
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))*((?=[\p{L}\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))+((?=[\p{L}\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// DeepSeek V3 (also hunyuan-dense, hy_v4, joyai-llm) and spark2_5 share the CJK/word parts.
constexpr const char* kReCjkKana = R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)";
constexpr const char* kReDeepseek3Words =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kReSpark25Words =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+|[\r\n]|\s+(?!\S)|\s+)";
// DeepSeek LLM: cased letters (Lu/Ll/Lt ranges, spelled out as in the model's own file).
constexpr const char* kReDeepseekLlmLetters =
    R"(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)";
constexpr const char* kReDeepseekLlmPunct =
    R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)";
constexpr const char* kReCjkHangul = R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";
// Bloom / poro / viking / gpt3-finnish: a word is anything up to whitespace or punctuation.
constexpr const char* kReBloom =
    R"( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{0964}\x{06D4}\x{060C})]+)";
constexpr const char* kReYoutuCjk =
    R"([\x{AC00}-\x{D7A3}\x{3131}-\x{318E}]+|[\x{FF01}\x{2026}\x{201C}\x{201D}\x{2018}\x{2019}\x{2014}\x{FF1A}\x{FF1B}\x{FF0C}\x{3001}-\x{303F}\x{FE30}-\x{FE4F}]+|[\x{3105}-\x{312F}]+|[\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)";
constexpr const char* kReYoutuWords =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kReBailingmoe =
    R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)";
constexpr const char* kReSeedCoder =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kReUfakzeka =
    R"([^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kReExaoneMoe =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+)";
constexpr const char* kReMinicpm5 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

enum class Family {
    kDefault, kGpt2, kLlama3, kJais2, kQwen2, kQwen35, kGpt4o, kTekken, kGraniteEmbMulti,
    kDeepseek3, kSpark25, kDeepseekLlm, kDeepseekCoder, kFalcon, kStarcoder, kBloom, kViking,
    kChameleon, kTinyAya, kSuperbpe, kBailingmoe, kSeedCoder, kUfakzeka, kLaguna, kExaoneMoe,
    kMinicpm5, kYoutu, kUnsupported,
};

std::vector<std::string> family_regexes(Family family) {
    switch (family) {
        case Family::kDefault:
            return {R"([\p{P}\$\+<=>\^~\|]+)", kReGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"};
        case Family::kGpt2: return {kReGpt2};
        case Family::kLlama3: return {kReLlama3};
        case Family::kJais2: return {kReJais2};
        case Family::kQwen2: return {kReQwen2};
        case Family::kQwen35: return {kReQwen35};
        case Family::kGpt4o: return {kReGpt4o};
        case Family::kTekken: return {kReTekken};
        case Family::kGraniteEmbMulti: return {kReGraniteEmbMulti};
        case Family::kDeepseek3: return {R"(\p{N}{1,3})", kReCjkKana, kReDeepseek3Words};
        case Family::kSpark25: return {R"(\p{N}{1,3})", kReCjkKana, kReSpark25Words, R"(\p{N})"};
        case Family::kDeepseekLlm:
            return {R"([\r\n])", kReDeepseekLlmLetters, kReDeepseekLlmPunct, R"(\s+$)", kReCjkHangul,
                    R"(\p{N}+)"};
        case Family::kDeepseekCoder:
            return {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kReCjkHangul, R"(\p{N})"};
        case Family::kFalcon: return {R"([\p{P}\$\+<=>\^~\|`]+)", kReGpt2, "[0-9][0-9][0-9]"};
        case Family::kStarcoder: return {R"(\p{N})", kReGpt2};
        case Family::kBloom: return {kReBloom};
        case Family::kViking: return {kReBloom, R"(\p{N})"};
        case Family::kChameleon:
            return {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
                    R"(([\t\n]|    |  ))", R"(\p{N})", R"([\p{P}!-/:-@\[-`{-~])", kReGpt2};
        case Family::kTinyAya: return {R"(\d{1,3}(?=(?:\d{3})*\b))", kReGpt4o};
        case Family::kSuperbpe: return {R"(\p{N}+)", R"((?=(\d{3})+(?!\d)))"};
        case Family::kBailingmoe: return {kReBailingmoe};
        case Family::kSeedCoder: return {kReSeedCoder};
        case Family::kUfakzeka: return {kReUfakzeka};
        case Family::kLaguna: return {R"([^\n]+|[\n]+)", kReQwen2};
        case Family::kExaoneMoe: return {kReExaoneMoe};
        case Family::kMinicpm5: return {R"(\p{N}{1,3})", kReMinicpm5};
        case Family::kYoutu: return {kReYoutuCjk, kReYoutuWords};
        case Family::kUnsupported: return {};
    }
    return {};
}

// Flags a name carries besides its family.
constexpr uint8_t kIgnoreMerges = 1, kAddBos = 2, kNoClean = 4, kClearBos = 8, kAddSep = 16;

struct NameEntry {
    std::string_view name;
    Family family;
    uint8_t flags;
};

constexpr std::array kNames = {
    NameEntry{"default", Family::kDefault, 0},
    NameEntry{"llama3", Family::kLlama3, kIgnoreMerges | kAddBos},
    NameEntry{"llama-v3", Family::kLlama3, kIgnoreMerges | kAddBos},
    NameEntry{"llama-bpe", Family::kLlama3, kIgnoreMerges | kAddBos},
    NameEntry{"falcon3", Family::kLlama3, kIgnoreMerges | kAddBos},
    NameEntry{"falcon-h1", Family::kLlama3, kIgnoreMerges | kAddBos},
    NameEntry{"pixtral", Family::kLlama3, kIgnoreMerges | kAddBos},
    NameEntry{"midm-2.0", Family::kLlama3, kIgnoreMerges | kAddBos},
    NameEntry{"lfm2", Family::kLlama3, kIgnoreMerges | kAddBos},
    NameEntry{"jina-v5-nano", Family::kLlama3, kIgnoreMerges | kAddBos},
    NameEntry{"dbrx", Family::kLlama3, 0},
    NameEntry{"smaug-bpe", Family::kLlama3, 0},
    NameEntry{"glm4", Family::kLlama3, kClearBos},
    NameEntry{"chatglm-bpe", Family::kLlama3, kClearBos},
    NameEntry{"deepseek-llm", Family::kDeepseekLlm, kNoClean},
    NameEntry{"deepseek-coder", Family::kDeepseekCoder, kNoClean},
    NameEntry{"deepseek-v3", Family::kDeepseek3, kNoClean},
    NameEntry{"hunyuan-dense", Family::kDeepseek3, kNoClean},
    NameEntry{"hy_v4", Family::kDeepseek3, kNoClean},
    NameEntry{"joyai-llm", Family::kDeepseek3, kNoClean},
    NameEntry{"spark2_5", Family::kSpark25, kNoClean},
    NameEntry{"youtu", Family::kYoutu, kNoClean | kIgnoreMerges},
    NameEntry{"falcon", Family::kFalcon, 0},
    NameEntry{"gpt-2", Family::kGpt2, 0},
    NameEntry{"phi-2", Family::kGpt2, 0},
    NameEntry{"mpt", Family::kGpt2, 0},
    NameEntry{"olmo", Family::kGpt2, 0},
    NameEntry{"jais", Family::kGpt2, 0},
    NameEntry{"jina-es", Family::kGpt2, 0},
    NameEntry{"jina-de", Family::kGpt2, 0},
    NameEntry{"jina-v2-es", Family::kGpt2, 0},
    NameEntry{"jina-v2-de", Family::kGpt2, 0},
    NameEntry{"gigachat", Family::kGpt2, 0},
    NameEntry{"a.x-4.0", Family::kGpt2, 0},
    NameEntry{"mellum", Family::kGpt2, 0},
    NameEntry{"modern-bert", Family::kGpt2, 0},
    NameEntry{"exaone4", Family::kGpt2, 0},
    NameEntry{"trillion", Family::kGpt2, kNoClean},
    NameEntry{"granite-docling", Family::kGpt2, kNoClean},
    NameEntry{"jina-v1-en", Family::kGpt2, kAddSep},
    NameEntry{"jina-v2-code", Family::kGpt2, kAddSep},
    NameEntry{"roberta-bpe", Family::kGpt2, kAddSep},
    NameEntry{"jais-2", Family::kJais2, 0},
    NameEntry{"starcoder", Family::kStarcoder, 0},
    NameEntry{"refact", Family::kStarcoder, 0},
    NameEntry{"codeshell", Family::kStarcoder, 0},
    NameEntry{"exaone", Family::kStarcoder, 0},
    NameEntry{"minerva-7b", Family::kStarcoder, 0},
    NameEntry{"mellum2", Family::kStarcoder, 0},
    NameEntry{"command-r", Family::kStarcoder, kNoClean},
    NameEntry{"smollm", Family::kStarcoder, kNoClean},
    NameEntry{"qwen2", Family::kQwen2, kNoClean},
    NameEntry{"deepseek-r1-qwen", Family::kQwen2, kNoClean},
    NameEntry{"kormo", Family::kQwen2, kNoClean},
    NameEntry{"f2llmv2", Family::kQwen2, kNoClean},
    NameEntry{"hunyuan", Family::kQwen2, kNoClean},
    NameEntry{"grok-2", Family::kQwen2, kNoClean},
    NameEntry{"solar-open", Family::kQwen2, kNoClean},
    NameEntry{"stablelm2", Family::kQwen2, 0},
    NameEntry{"megrez", Family::kQwen2, 0},
    NameEntry{"qwen35", Family::kQwen35, kNoClean},
    NameEntry{"poro-chat", Family::kBloom, kNoClean},
    NameEntry{"bloom", Family::kBloom, 0},
    NameEntry{"gpt3-finnish", Family::kBloom, 0},
    NameEntry{"viking", Family::kViking, kNoClean},
    NameEntry{"tekken", Family::kTekken, kNoClean | kIgnoreMerges | kAddBos},
    NameEntry{"chameleon", Family::kChameleon, kAddBos | kNoClean},
    NameEntry{"gpt-4o", Family::kGpt4o, kNoClean},
    NameEntry{"llama4", Family::kGpt4o, kNoClean},
    NameEntry{"kanana2", Family::kGpt4o, kNoClean},
    NameEntry{"talkie", Family::kGpt4o, kNoClean},
    NameEntry{"minimax-m2", Family::kGpt4o, kNoClean},
    NameEntry{"granite-embed-multi-97m", Family::kGraniteEmbMulti, kNoClean | kIgnoreMerges},
    NameEntry{"tiny_aya", Family::kTinyAya, kNoClean},
    NameEntry{"cohere2moe", Family::kTinyAya, kNoClean},
    NameEntry{"superbpe", Family::kSuperbpe, kNoClean},
    NameEntry{"bailingmoe", Family::kBailingmoe, kNoClean},
    NameEntry{"bailingmoe2", Family::kBailingmoe, kNoClean},
    NameEntry{"llada-moe", Family::kBailingmoe, kNoClean},
    NameEntry{"seed-coder", Family::kSeedCoder, kNoClean},
    NameEntry{"ufakzeka", Family::kUfakzeka, kNoClean},
    NameEntry{"laguna", Family::kLaguna, kNoClean},
    NameEntry{"exaone-moe", Family::kExaoneMoe, 0},
    NameEntry{"minicpm5", Family::kMinicpm5, kIgnoreMerges},
    // These need raw-UTF-8 BPE, a custom splitter or no merges: not implemented.
    NameEntry{"gemma4", Family::kUnsupported, 0},
    NameEntry{"granite-embed-multi-311m", Family::kUnsupported, 0},
    NameEntry{"sarvam-moe", Family::kUnsupported, 0},
    NameEntry{"whitespace", Family::kUnsupported, 0},
    NameEntry{"kimi-k2", Family::kUnsupported, 0},
    NameEntry{"afmoe", Family::kUnsupported, 0},
};

}  // namespace

std::vector<std::string_view> known_pre_tokenizers() {
    std::vector<std::string_view> names;
    for (const NameEntry& entry : kNames) names.push_back(entry.name);
    return names;
}

Result<PreTokenizerConfig> pre_tokenizer_config(std::string_view pre) {
    const NameEntry* entry = nullptr;
    for (const NameEntry& candidate : kNames) {
        if (candidate.name == pre) entry = &candidate;
    }
    if (entry == nullptr) {
        if (pre.empty()) {
            log::warn("tokenizer: no tokenizer.ggml.pre; using the default pre-tokenizer");
        } else {
            log::warn("tokenizer: unknown pre-tokenizer '{}'; using the default one", pre);
        }
        entry = &kNames[0];
    }
    if (entry->family == Family::kUnsupported) {
        return error("pre-tokenizer '{}' is not supported", pre);
    }
    PreTokenizerConfig config;
    config.name = std::string(entry->name);
    config.regexes = family_regexes(entry->family);
    config.ignore_merges = (entry->flags & kIgnoreMerges) != 0;
    config.add_bos = (entry->flags & kAddBos) != 0;
    config.add_sep = (entry->flags & kAddSep) != 0;
    config.clean_spaces = (entry->flags & kNoClean) == 0;
    config.clear_bos = (entry->flags & kClearBos) != 0;
    return config;
}

}  // namespace rf::tok
