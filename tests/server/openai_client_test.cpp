// The official `openai` npm client, unmodified, against the real server on a loopback port.
// Needs node and the package installed by scripts/setup.sh (`npm ci` in tests/server/
// openai-client); skips with a message when either is missing.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "server_harness.h"

namespace rf::testing {
namespace {

TEST(OpenAiNodeClient, ModelsCompletionsChatAndStreamedChat) {
    const std::filesystem::path source = RF_SOURCE_DIR;
    const auto client_dir = source / "tests/server/openai-client";
    if (std::system("node --version > /dev/null 2>&1") != 0) {
        GTEST_SKIP() << "node is not installed: the OpenAI client test did not run";
    }
    if (!std::filesystem::exists(client_dir / "node_modules/openai/package.json")) {
        GTEST_SKIP() << "the openai npm package is not installed (run `npm ci` in "
                     << client_dir.string() << "): the OpenAI client test did not run";
    }
    auto h = ServerHarness::start(HarnessOptions{});
    ASSERT_TRUE(h.is_ok()) << h.message();
    const std::string command = "node '" + (source / "scripts/openai_client_test.mjs").string() +
                                "' --base-url " + (*h)->base_url() + "/v1 --api-key test-key" +
                                " --client-dir '" + client_dir.string() + "' 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) output.append(buf, n);
    const int status = ::pclose(pipe);
    std::printf("%s", output.c_str());
    ASSERT_TRUE(WIFEXITED(status)) << output;
    EXPECT_EQ(WEXITSTATUS(status), 0) << output;
    EXPECT_NE(output.find("all OpenAI client checks passed"), std::string::npos) << output;
}

}  // namespace
}  // namespace rf::testing
