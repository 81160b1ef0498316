// Tokenizer throughput on one core over a few MB of English text (the licence texts and
// package copyright files a Debian system ships). Vocabularies come from the shared test data.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "gguf/gguf_file.h"
#include "tokenizer/bpe.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using rf::tok::Tokenizer;

constexpr size_t kCorpusBytes = 4u << 20;

void append_file(const fs::path& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    out += buffer.str();
    out += '\n';
}

// Deterministic corpus: sorted licence files, then sorted copyright files, cut at 4 MiB.
const std::string& corpus() {
    static const std::string text = [] {
        std::string out;
        std::vector<fs::path> files;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator("/usr/share/common-licenses", ec)) {
            if (e.is_regular_file()) files.push_back(e.path());
        }
        std::sort(files.begin(), files.end());
        std::vector<fs::path> copyrights;
        for (const auto& e : fs::directory_iterator("/usr/share/doc", ec)) {
            const fs::path c = e.path() / "copyright";
            if (fs::is_regular_file(c, ec)) copyrights.push_back(c);
        }
        std::sort(copyrights.begin(), copyrights.end());
        files.insert(files.end(), copyrights.begin(), copyrights.end());
        for (const fs::path& f : files) {
            if (out.size() >= kCorpusBytes) break;
            append_file(f, out);
        }
        if (out.size() > kCorpusBytes) out.resize(kCorpusBytes);
        return out;
    }();
    return text;
}

// Loaded once per vocabulary name; null when the shared test data is absent.
const Tokenizer* tokenizer(const std::string& name) {
    static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
    auto& slot = cache[name];
    if (!slot) {
        const std::string path =
            std::string(RF_SHARED_TESTDATA) + "/vocab/ggml-vocab-" + name + ".gguf";
        auto file = rf::gguf::GgufFile::open(path);
        if (!file.is_ok()) return nullptr;
        auto t = Tokenizer::from_gguf(*file);
        if (!t.is_ok()) return nullptr;
        slot = std::make_unique<Tokenizer>(std::move(t).value());
    }
    return slot.get();
}

void encode(benchmark::State& state, const std::string& vocab) {
    const Tokenizer* t = tokenizer(vocab);
    if (t == nullptr) {
        state.SkipWithError("shared vocabulary absent");
        return;
    }
    const std::string& text = corpus();
    size_t n_tokens = 0;
    for (auto _ : state) {
        const auto ids = t->encode(text, false, false);
        n_tokens = ids.size();
        benchmark::DoNotOptimize(ids.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
    state.counters["tokens"] = static_cast<double>(n_tokens);
    state.counters["corpus_MB"] = static_cast<double>(text.size()) / 1e6;
}

// Regex pre-tokenization and merging without the word cache: the cost on novel text.
void bpe_uncached(benchmark::State& state, const std::string& pre) {
    const std::string path = std::string(RF_SHARED_TESTDATA) + "/vocab/ggml-vocab-gpt-2.gguf";
    auto file = rf::gguf::GgufFile::open(path);
    if (!file.is_ok()) {
        state.SkipWithError("shared vocabulary absent");
        return;
    }
    auto vocab = rf::tok::load_vocab(*file);
    auto config = rf::tok::pre_tokenizer_config(pre);
    auto splitter = rf::tok::RegexSplitter::create(config->regexes);
    auto bpe = rf::tok::BpeModel::create(vocab->tokens, vocab->merges, false);
    bpe->set_cache_enabled(false);
    const std::string& text = corpus();
    std::vector<std::string_view> words;
    std::vector<int32_t> ids;
    for (auto _ : state) {
        words.clear();
        ids.clear();
        splitter->split(text, words);
        for (const auto w : words) bpe->encode_word(w, ids);
        benchmark::DoNotOptimize(ids.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void pretokenize(benchmark::State& state, const std::string& pre) {
    auto config = rf::tok::pre_tokenizer_config(pre);
    auto splitter = rf::tok::RegexSplitter::create(config->regexes);
    const std::string& text = corpus();
    std::vector<std::string_view> words;
    for (auto _ : state) {
        words.clear();
        splitter->split(text, words);
        benchmark::DoNotOptimize(words.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
    state.counters["words"] = static_cast<double>(words.size());
}

void decode(benchmark::State& state, const std::string& vocab) {
    const Tokenizer* t = tokenizer(vocab);
    if (t == nullptr) {
        state.SkipWithError("shared vocabulary absent");
        return;
    }
    const auto ids = t->encode(corpus(), false, false);
    for (auto _ : state) {
        const std::string text = t->decode(ids);
        benchmark::DoNotOptimize(text.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus().size()));
}

BENCHMARK_CAPTURE(encode, bpe_gpt2, std::string("gpt-2"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, bpe_deepseek_coder, std::string("deepseek-coder"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, spm_llama, std::string("llama-spm"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bpe_uncached, gpt2, std::string("gpt-2"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(pretokenize, gpt2, std::string("gpt-2"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(pretokenize, llama3, std::string("llama3"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(decode, bpe_gpt2, std::string("gpt-2"))->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
