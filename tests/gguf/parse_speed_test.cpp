// Parse time of a 7B-like header (291 tensor infos, 128k vocab, 280k merges): guards against
// per-element overheads on large string arrays. Prints the measured time.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf/keys.h"

namespace rf::gguf {
namespace {

constexpr int kVocab = 128256;
constexpr int kMerges = 280147;

std::string token_text(int i) {
    // Mix short and longer pieces like a BPE vocabulary ("Ġthe", "ing", multi-byte ...).
    std::string s = (i % 3 == 0) ? "\xc4\xa0" : "";
    for (int x = i;; x /= 26) {
        s += static_cast<char>('a' + x % 26);
        if (x < 26) break;
    }
    if (i % 7 == 0) s += "ization";
    return s;
}

GgufWriter seven_b_like_header() {
    GgufWriter w;
    w.set(std::string(keys::kGeneralArchitecture), Value::string("llama"));
    w.set(keys::arch_key("llama", keys::kBlockCount), Value::u32(32));
    std::vector<std::string> tokens(kVocab);
    std::vector<float> scores(kVocab);
    std::vector<int32_t> types(kVocab, 1);
    for (int i = 0; i < kVocab; ++i) {
        tokens[i] = token_text(i);
        scores[i] = -static_cast<float>(i);
    }
    std::vector<std::string> merges(kMerges);
    for (int i = 0; i < kMerges; ++i) merges[i] = token_text(i % 5000) + " " + token_text(i / 7);
    w.set(std::string(keys::kTokenizerModel), Value::string("gpt2"));
    w.set(std::string(keys::kTokenizerTokens), Value::string_array(tokens));
    w.set(std::string(keys::kTokenizerScores), Value::f32_array(scores));
    w.set(std::string(keys::kTokenizerTokenType), Value::i32_array(types));
    w.set(std::string(keys::kTokenizerMerges), Value::string_array(merges));
    // 291 tensor infos as in a 32-layer model (9 per layer + 3), with tiny data.
    const std::vector<uint8_t> data(32 * 4 * sizeof(float));
    const char* per_layer[] = {"attn_norm", "attn_q",   "attn_k", "attn_v",  "attn_output",
                               "ffn_norm",  "ffn_gate", "ffn_up", "ffn_down"};
    for (int il = 0; il < 32; ++il) {
        for (const char* n : per_layer) {
            const std::string name = "blk." + std::to_string(il) + "." + n + ".weight";
            EXPECT_TRUE(w.add_tensor(name, quant::GgmlType::kF32, {32, 4}, data).is_ok());
        }
    }
    for (const char* n : {"token_embd.weight", "output_norm.weight", "output.weight"}) {
        EXPECT_TRUE(w.add_tensor(n, quant::GgmlType::kF32, {32, 4}, data).is_ok());
    }
    return w;
}

// CPU time of this thread: meaningful on a loaded machine where wall time is not.
double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

TEST(ParseSpeed, SevenBLikeHeaderWith128kVocab) {
    const std::vector<uint8_t> image = seven_b_like_header().write_to_memory();
    double best_ms = 1e9;
    double best_cpu_ms = 1e9;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        const double c0 = thread_cpu_ms();
        Result<GgufFile> f = GgufFile::parse(image);
        const double c1 = thread_cpu_ms();
        const auto t1 = std::chrono::steady_clock::now();
        ASSERT_TRUE(f.is_ok()) << f.message();
        ASSERT_EQ(f->tensors().size(), 291u);
        ASSERT_EQ(f->get_array(keys::kTokenizerTokens).value()->items.size(), size_t{kVocab});
        best_ms = std::min(best_ms, std::chrono::duration<double, std::milli>(t1 - t0).count());
        best_cpu_ms = std::min(best_cpu_ms, c1 - c0);
    }
    std::printf(
        "parse of a %.1f MiB header (291 tensors, %d tokens, %d merges): %.1f ms wall, "
        "%.1f ms cpu\n",
        static_cast<double>(image.size()) / (1 << 20), kVocab, kMerges, best_ms, best_cpu_ms);
    // Loose bound (sanitizer builds are slower); the release figure is reported separately.
    EXPECT_LT(best_ms, 2000.0);
}

}  // namespace
}  // namespace rf::gguf
