// One small template per engine feature (whitespace control, operators, filters, tests,
// methods, scoping, errors), each compared with its Python jinja2 rendering.
#include <gtest/gtest.h>

#include <filesystem>

#include "chat/chat_template.h"
#include "fixture_util.h"

namespace rf::chat {
namespace {

namespace fs = std::filesystem;

const nlohmann::ordered_json& snippets() {
    static const nlohmann::ordered_json kSnippets =
        testing::read_json(fs::path(RF_FIXTURES_DIR) / "templates" / "snippets.json");
    return kSnippets;
}

std::vector<size_t> snippet_indices() {
    std::vector<size_t> out;
    if (!snippets().is_object()) return out;
    for (size_t i = 0; i < snippets()["cases"].size(); ++i) out.push_back(i);
    return out;
}

class Snippet : public ::testing::TestWithParam<size_t> {};

TEST_P(Snippet, MatchesJinja2) {
    const auto& all = snippets();
    const auto& c = all["cases"][GetParam()];
    SCOPED_TRACE("template: " + c["template"].get<std::string>());
    RenderOptions options;
    options.bos_token = all["bos_token"].get<std::string>();
    options.eos_token = all["eos_token"].get<std::string>();
    options.now_unix = all["now_unix"].get<int64_t>();
    options.extra_context = all["base_context"];
    for (const auto& [key, value] : c["extra"].items()) options.extra_context[key] = value;
    Result<std::string> out = Status::error("");
    auto tmpl = ChatTemplate::parse(c["template"].get<std::string>());
    out = tmpl.is_ok() ? tmpl->render(all["messages"], options) : Result<std::string>(tmpl.status());
    if (c.contains("error")) {
        EXPECT_FALSE(out.is_ok()) << "jinja2 raised " << c["error"].get<std::string>() << " but we rendered:\n"
                                  << (out.is_ok() ? *out : "");
        if (!out.is_ok()) {
            EXPECT_FALSE(out.message().empty());
        }
    } else {
        ASSERT_TRUE(out.is_ok()) << out.message();
        const std::string want = c["output"].get<std::string>();
        EXPECT_EQ(*out, want) << testing::describe_mismatch(want, *out);
    }
}

std::string snippet_name(const ::testing::TestParamInfo<size_t>& p) {
    return testing::test_name(snippets()["cases"][p.param]["name"].get<std::string>());
}

INSTANTIATE_TEST_SUITE_P(Jinja2, Snippet, ::testing::ValuesIn(snippet_indices()), snippet_name);

TEST(Snippets, FixtureIsPresent) { EXPECT_GT(snippet_indices().size(), 100u); }

}  // namespace
}  // namespace rf::chat
