// End to end: `rocmforge inspect` on valid and malformed files, `rocmforge tensor` dumps.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "common/cli_run.h"
#include "core/half.h"
#include "gguf/gguf_file.h"
#include "malformed_cases.h"
#include "sample_files.h"

namespace rf::gguf {
namespace {

namespace fs = std::filesystem;
using rf::testing::CliRun;
using rf::testing::run_rocmforge;
using rf::testing::slurp;

// A path in the test temp directory unique to this process (ctest runs tests in parallel).
fs::path temp_file(const std::string& name) {
    return fs::path(::testing::TempDir()) / fmt::format("rf_cli_{}_{}", ::getpid(), name);
}

std::string quoted(const fs::path& p) {
    return fmt::format("'{}'", p.string());
}

class CliTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        sample_path_ = temp_file("sample.gguf");
        ASSERT_TRUE(testing::model_sample().write_file(sample_path_.string()).is_ok());
    }
    static fs::path sample_path_;
};
fs::path CliTest::sample_path_;

TEST_F(CliTest, InspectRejectsEveryMalformedFileWithOneLine) {
    const fs::path dir = fs::path(RF_FIXTURES_DIR) / "gguf" / "malformed";
    for (const testing::MalformedCase& c : testing::malformed_cases()) {
        const CliRun r = run_rocmforge("inspect " + quoted(dir / (c.name + ".gguf")));
        EXPECT_EQ(r.exit_code, 1) << c.name;
        EXPECT_TRUE(r.out.empty()) << c.name << ": " << r.out;
        EXPECT_EQ(r.err.rfind("rocmforge: error: ", 0), 0u) << c.name << ": " << r.err;
        ASSERT_FALSE(r.err.empty());
        EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << c.name << ": not one line: " << r.err;
        EXPECT_NE(r.err.find(c.expected_fragment), std::string::npos) << c.name << ": " << r.err;
    }
}

TEST_F(CliTest, ListDevicesAlwaysShowsTheCpu) {
    const CliRun r = run_rocmforge("--list-devices");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("cpu    always available"), std::string::npos) << r.out;
}

TEST_F(CliTest, InspectText) {
    const CliRun r = run_rocmforge("inspect " + quoted(sample_path_));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("architecture: llama"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("file type: MOSTLY_Q8_0 (7)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("llama.block_count"), std::string::npos);
    EXPECT_NE(r.out.find("vocab 4, merges 0, bos 1, eos 2, chat template yes (14 bytes)"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("blk.0.attn_q.weight"), std::string::npos);
    EXPECT_NE(r.out.find("totals: 5 tensors, 4672 parameters"), std::string::npos) << r.out;
}

TEST_F(CliTest, InspectJson) {
    const CliRun r = run_rocmforge("inspect --json " + quoted(sample_path_));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["architecture"], "llama");
    EXPECT_EQ(j["file_type"]["name"], "MOSTLY_Q8_0 (7)");
    EXPECT_EQ(j["hparams"]["block_count"], 1);
    EXPECT_EQ(j["tokenizer"]["vocab_size"], 4);
    EXPECT_EQ(j["tokenizer"]["chat_template"], true);
    EXPECT_EQ(j["tokenizer"]["chat_template_bytes"], 14);
    ASSERT_EQ(j["tensors"].size(), 5u);
    EXPECT_EQ(j["tensors"][2]["name"], "blk.0.attn_q.weight");
    EXPECT_EQ(j["tensors"][2]["type"], "q4_0");
    EXPECT_EQ(j["tensors"][2]["shape"], nlohmann::json::array({64, 64}));
    EXPECT_EQ(j["tensors"][2]["bytes"], 64 * 2 * 18);
    EXPECT_EQ(j["totals"]["parameters"], 4672);
}

std::vector<float> read_floats(const fs::path& path) {
    const std::string bytes = slurp(path);
    std::vector<float> out(bytes.size() / sizeof(float));
    std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
    return out;
}

TEST_F(CliTest, TensorDumpsDequantizedFloats) {
    Result<GgufFile> file = GgufFile::open(sample_path_.string());
    ASSERT_TRUE(file.is_ok());
    const fs::path out = temp_file("tensor.f32");

    // F32 is copied as is.
    const TensorInfo* norm = file->find_tensor("blk.0.attn_norm.weight");
    CliRun r = run_rocmforge("tensor " + quoted(sample_path_) + " blk.0.attn_norm.weight --out " +
                             quoted(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(slurp(out.string()), std::string(norm->data.begin(), norm->data.end()));

    // Q8_0: x = d * q per 32-element block (34 bytes: fp16 d, 32 x int8).
    const TensorInfo* embd = file->find_tensor("token_embd.weight");
    r = run_rocmforge("tensor " + quoted(sample_path_) + " token_embd.weight -o " + quoted(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<float> got = read_floats(out);
    ASSERT_EQ(got.size(), 256u);
    for (size_t i = 0; i < got.size(); ++i) {
        const uint8_t* block = embd->data.data() + (i / 32) * 34;
        uint16_t d = 0;
        std::memcpy(&d, block, 2);
        const auto q = static_cast<int8_t>(block[2 + i % 32]);
        const float want = fp16_to_float(d) * static_cast<float>(q);
        if (std::isnan(want)) continue;
        EXPECT_EQ(got[i], want) << i;
    }
}

TEST_F(CliTest, TensorUnknownNameSuggestsCloseNames) {
    const fs::path out = temp_file("unknown.f32");
    const CliRun r = run_rocmforge("tensor " + quoted(sample_path_) +
                                   " blk.0.attn_k.weight --out " + quoted(out));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err.rfind("rocmforge: error: no tensor named 'blk.0.attn_k.weight'; close names: "
                          "blk.0.attn_q.weight",
                          0),
              0u)
        << r.err;
}

}  // namespace
}  // namespace rf::gguf
