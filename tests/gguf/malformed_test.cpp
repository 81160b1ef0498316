// Every committed malformed file is rejected with its expected message; the committed files
// match the generator, so the corpus cannot silently drift.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "malformed_cases.h"

namespace rf::gguf {
namespace {

std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::filesystem::path kDir = std::filesystem::path(RF_FIXTURES_DIR) / "gguf" / "malformed";

TEST(Malformed, EachCaseIsRejectedWithItsMessage) {
    for (const testing::MalformedCase& c : testing::malformed_cases()) {
        Result<GgufFile> f = GgufFile::parse(c.bytes);
        ASSERT_FALSE(f.is_ok()) << c.name << " was accepted";
        EXPECT_NE(f.message().find(c.expected_fragment), std::string::npos)
            << c.name << ": got \"" << f.message() << "\", expected \"" << c.expected_fragment
            << "\"";
        EXPECT_EQ(f.message().find('\n'), std::string::npos) << c.name;
    }
}

TEST(Malformed, CommittedFilesMatchTheGenerator) {
    size_t n_files = 0;
    for (const testing::MalformedCase& c : testing::malformed_cases()) {
        const std::filesystem::path path = kDir / (c.name + ".gguf");
        ASSERT_TRUE(std::filesystem::exists(path))
            << path << " is missing: run gguf_make_fixtures to regenerate the corpus";
        EXPECT_EQ(read_bytes(path), c.bytes) << path << " differs from the generator";
        ++n_files;
    }
    size_t on_disk = 0;
    for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
        on_disk += entry.path().extension() == ".gguf";
    }
    EXPECT_EQ(on_disk, n_files) << "stale files in " << kDir;
}

TEST(Malformed, OpenNamesThePath) {
    const std::filesystem::path path = kDir / "bad_magic.gguf";
    Result<GgufFile> f = GgufFile::open(path.string());
    ASSERT_FALSE(f.is_ok());
    EXPECT_EQ(f.message().rfind(path.string() + ": header.magic", 0), 0u) << f.message();
}

// Every strict prefix of a valid file is a truncated file: rejected, never a crash.
TEST(Malformed, EveryTruncationOfAValidFileIsRejected) {
    GgufWriter w;
    w.set("general.architecture", Value::string("llama"));
    w.set("t.strings", Value::string_array({"ab", "c"}));
    w.set("t.nested", Value::array(ValueType::kArray, {Value::i32_array({1, 2})}));
    ASSERT_TRUE(w.add_tensor("w", quant::GgmlType::kF32, {8}, std::vector<uint8_t>(32)).is_ok());
    const std::vector<uint8_t> image = w.write_to_memory();
    ASSERT_TRUE(GgufFile::parse(image).is_ok());
    for (size_t n = 0; n < image.size(); ++n) {
        Result<GgufFile> f = GgufFile::parse(std::span<const uint8_t>(image.data(), n));
        EXPECT_FALSE(f.is_ok()) << "prefix of " << n << " bytes accepted";
    }
}

}  // namespace
}  // namespace rf::gguf
