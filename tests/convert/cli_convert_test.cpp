// `rocmforge synth` and `rocmforge quantize` end to end, checked with `rocmforge inspect --json`.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/cli_run.h"
#include "test_vocab.h"

namespace rf::convert {
namespace {

using rf::testing::CliRun;
using rf::testing::run_rocmforge;

TEST(ConvertCli, SynthQuantizeInspect) {
    const std::string vocab = testing::temp_path("cli_vocab.gguf");
    testing::write_test_vocab(vocab);
    const std::string f16 = testing::temp_path("cli_tiny_f16.gguf");
    CliRun r = run_rocmforge(
        fmt::format("synth --shape tiny --type F16 --vocab '{}' --out '{}' --seed 3", vocab, f16));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("tiny MOSTLY_F16"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("using n_vocab = 300"), std::string::npos) << r.err;

    const std::string q = testing::temp_path("cli_tiny_q4km.gguf");
    r = run_rocmforge(fmt::format("quantize '{}' '{}' q4_k_m --threads 2", f16, q));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("q6_K 3"), std::string::npos) << r.out;

    r = run_rocmforge(fmt::format("inspect --json '{}'", q));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["file_type"]["name"], "MOSTLY_Q4_K_M (15)");
    EXPECT_EQ(j["hparams"]["block_count"], 2);
    EXPECT_EQ(j["tokenizer"]["vocab_size"], 300);
    EXPECT_EQ(j["totals"]["tensors"], 21);
}

TEST(ConvertCli, ErrorsAreOneLine) {
    CliRun r = run_rocmforge("quantize /nonexistent.gguf /tmp/x.gguf Q4_K_M");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err.rfind("rocmforge: error: cannot open '/nonexistent.gguf'", 0), 0u) << r.err;
    r = run_rocmforge("quantize /nonexistent.gguf /tmp/x.gguf Q9_K");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("unknown quantization type 'Q9_K'"), std::string::npos) << r.err;
    r = run_rocmforge("synth --shape nope --vocab /nonexistent.gguf --out /tmp/x.gguf");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("unknown shape 'nope'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rf::convert
