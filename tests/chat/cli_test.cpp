// `rocmforge template render` prints exactly the reference rendering (no newline added) and
// fails with exit code 1 where jinja2 raises. Skips when the CLI or the shared data is absent.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "fixture_util.h"

namespace rf::chat {
namespace {

namespace fs = std::filesystem;

const fs::path kCli = RF_CLI_PATH;
const fs::path kTemplates = fs::path(RF_SHARED_TESTDATA) / "templates";
const fs::path kFixtures = fs::path(RF_FIXTURES_DIR) / "templates";

// Runs the CLI on one fixture case; returns the exit status and fills `out` with stdout.
int render_with_cli(const std::string& template_name, const std::string& conversation,
                    bool generation_prompt, std::string& out) {
    const fs::path output =
        fs::temp_directory_path() / ("rf_chat_cli_" + std::to_string(::getpid()) + ".txt");
    const std::string command = kCli.string() + " -q template render --template " +
                                (kTemplates / template_name).string() + " --messages " +
                                (kFixtures / "conversations" / (conversation + ".json")).string() +
                                " --bos-token '<s>' --eos-token '</s>' --now 1721995200" +
                                (generation_prompt ? " --add-generation-prompt" : "") + " > " +
                                output.string() + " 2>/dev/null";
    const int status = std::system(command.c_str());
    out = testing::read_file(output).value_or("");
    fs::remove(output);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(TemplateCli, PrintsTheReferenceRenderingExactly) {
    if (!fs::exists(kCli)) GTEST_SKIP() << "rocmforge is not built at " << kCli;
    if (!fs::is_directory(kTemplates))
        GTEST_SKIP() << "shared test data not found at " << kTemplates;
    size_t checked = 0;
    for (const char* name :
         {"Qwen-Qwen2.5-7B-Instruct", "meta-llama-Llama-3.1-8B-Instruct", "google-gemma-2-2b-it"}) {
        const auto expected =
            testing::read_json(kFixtures / "expected" / (std::string(name) + ".json"));
        if (!expected.is_object() || !fs::exists(kTemplates / (std::string(name) + ".jinja")))
            continue;
        for (const auto& c : expected["cases"]) {
            const std::string conv = c["conversation"].get<std::string>();
            if (conv != "tool_calls" && conv != "system_only" && conv != "unicode_whitespace")
                continue;
            SCOPED_TRACE(std::string(name) + " / " + conv);
            std::string out;
            const int code = render_with_cli(std::string(name) + ".jinja", conv,
                                             c["add_generation_prompt"].get<bool>(), out);
            if (c.contains("error")) {
                EXPECT_EQ(code, 1);
                EXPECT_TRUE(out.empty());
            } else {
                EXPECT_EQ(code, 0);
                const std::string want = c["output"].get<std::string>();
                EXPECT_EQ(out, want) << testing::describe_mismatch(want, out);
            }
            ++checked;
        }
    }
    EXPECT_GT(checked, 0u);
}

}  // namespace
}  // namespace rf::chat
