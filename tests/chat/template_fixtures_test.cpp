// Every template in ../shared/testdata/templates (and every chat template stored in a GGUF file in
// ../shared/testdata/vocab) renders byte-identical to Python jinja2 with HF's settings on the
// committed conversations; the references come from scripts/render_templates.py.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "chat/chat_template.h"
#include "fixture_util.h"
#include "gguf/gguf_file.h"
#include "gguf/keys.h"

namespace rf::chat {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::read_json;

// RF_CHAT_TEMPLATES / RF_CHAT_FIXTURES point the test at another template set and its
// renderings (made with scripts/render_templates.py --templates ... --fixtures ...).
fs::path env_or(const char* name, const fs::path& fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? fs::path(v) : fallback;
}

const fs::path kTemplates = env_or("RF_CHAT_TEMPLATES", fs::path(RF_SHARED_TESTDATA) / "templates");
const fs::path kFixtures = env_or("RF_CHAT_FIXTURES", fs::path(RF_FIXTURES_DIR) / "templates");

std::vector<std::string> expected_files() {
    std::vector<std::string> names;
    if (!fs::is_directory(kFixtures / "expected")) return names;
    for (const auto& entry : fs::directory_iterator(kFixtures / "expected")) {
        if (entry.path().extension() == ".json") names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

class RealTemplate : public ::testing::TestWithParam<std::string> {};

// The chat template and BOS/EOS token texts stored in a GGUF file, as `-m MODEL` reads them.
std::optional<std::string> gguf_template(const fs::path& path, std::string& bos, std::string& eos) {
    auto file = gguf::GgufFile::open(path.string());
    if (!file.is_ok()) return std::nullopt;
    auto source = file->get_string_opt(gguf::keys::kTokenizerChatTemplate);
    if (!source.is_ok() || !source->has_value()) return std::nullopt;
    auto token = [&](std::string_view key) {
        const auto id = file->get_uint_opt(key);
        const auto tokens = file->get_array(gguf::keys::kTokenizerTokens);
        if (!id.is_ok() || !id->has_value() || !tokens.is_ok() || **id >= (*tokens)->items.size()) return std::string();
        return (*tokens)->items[**id].as_string();
    };
    bos = token(gguf::keys::kTokenizerBosId);
    eos = token(gguf::keys::kTokenizerEosId);
    return **source;
}

TEST_P(RealTemplate, MatchesJinja2) {
    const nlohmann::ordered_json expected = read_json(kFixtures / "expected" / GetParam());
    ASSERT_TRUE(expected.is_object()) << "unreadable fixture " << GetParam();
    if (!fs::is_directory(kTemplates)) GTEST_SKIP() << "shared test data not found at " << kTemplates;
    std::optional<std::string> source;
    if (expected.contains("gguf")) {
        const fs::path gguf_path = kTemplates.parent_path() / "vocab" / expected["gguf"].get<std::string>();
        std::string bos, eos;
        source = gguf_template(gguf_path, bos, eos);
        if (!source) GTEST_SKIP() << "no chat template readable from " << gguf_path;
        EXPECT_EQ(bos, expected["bos_token"].get<std::string>());
        EXPECT_EQ(eos, expected["eos_token"].get<std::string>());
    } else {
        const fs::path template_path = kTemplates / expected["template"].get<std::string>();
        source = read_file(template_path);
        if (!source) GTEST_SKIP() << "template not found: " << template_path;
    }

    auto tmpl = ChatTemplate::parse(*source);
    std::map<std::string, nlohmann::ordered_json> conversations;
    size_t checked = 0;
    for (const auto& c : expected["cases"]) {
        const std::string conv_name = c["conversation"].get<std::string>();
        if (!conversations.count(conv_name)) {
            conversations[conv_name] = read_json(kFixtures / "conversations" / (conv_name + ".json"));
        }
        const auto& conv = conversations[conv_name];
        SCOPED_TRACE(conv_name + (c["add_generation_prompt"].get<bool>() ? " +generation prompt" : ""));
        Result<std::string> out = Status::error("template failed to parse: " + tmpl.message());
        if (tmpl.is_ok()) {
            RenderOptions options;
            options.add_generation_prompt = c["add_generation_prompt"].get<bool>();
            options.bos_token = expected["bos_token"].get<std::string>();
            options.eos_token = expected["eos_token"].get<std::string>();
            options.now_unix = expected["now_unix"].get<int64_t>();
            if (conv.contains("tools")) options.tools = conv["tools"];
            if (conv.contains("extra")) options.extra_context = conv["extra"];
            out = tmpl->render(conv["messages"], options);
        }
        if (c.contains("error")) {
            EXPECT_FALSE(out.is_ok()) << "jinja2 raised " << c["error"].get<std::string>() << " but we rendered:\n"
                                      << (out.is_ok() ? *out : "");
        } else {
            ASSERT_TRUE(out.is_ok()) << out.message();
            const std::string want = c["output"].get<std::string>();
            EXPECT_EQ(*out, want) << testing::describe_mismatch(want, *out);
        }
        ++checked;
    }
    EXPECT_GT(checked, 0u);
}

std::string template_test_name(const ::testing::TestParamInfo<std::string>& p) {
    return testing::test_name(fs::path(p.param).stem().string());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RealTemplate, ::testing::ValuesIn(expected_files()), template_test_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RealTemplate);

TEST(RealTemplates, EveryTemplateHasReferenceRenderings) {
    if (!fs::is_directory(kTemplates)) GTEST_SKIP() << "shared test data not found at " << kTemplates;
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator(kTemplates)) {
        if (entry.path().extension() != ".jinja") continue;
        ++n;
        const fs::path fixture = kFixtures / "expected" / (entry.path().stem().string() + ".json");
        EXPECT_TRUE(fs::exists(fixture)) << entry.path().filename()
                                         << " has no reference renderings; run scripts/render_templates.py";
    }
    EXPECT_GT(n, 0u);
}

}  // namespace
}  // namespace rf::chat
