// `rocmforge serve` as a real process: it prints its port, serves 16 concurrent streaming clients
// driven by `rocmforge bench-serve`, and on SIGTERM stops accepting, lets an in-flight stream
// finish (or cancels it at the deadline) and exits 0.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>

#include "server_harness.h"

namespace rf::testing {
namespace {

using namespace std::chrono_literals;

// The child's stderr is drained by a thread so its logging never blocks it.
class ServeProcess {
public:
    ~ServeProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (reader_.joinable()) reader_.join();
    }
    bool start(const std::vector<std::string>& args) {
        int fds[2];
        if (::pipe(fds) != 0) return false;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(fds[1], STDERR_FILENO);
            ::close(fds[0]);
            ::close(fds[1]);
            std::vector<char*> argv;
            std::string bin = RF_ROCMFORGE_BIN;
            argv.push_back(bin.data());
            std::vector<std::string> copy = args;
            for (auto& a : copy) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(bin.c_str(), argv.data());
            ::_exit(127);
        }
        ::close(fds[1]);
        reader_ = std::thread([this, fd = fds[0]] {
            char buf[1024];
            for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) {
                std::lock_guard<std::mutex> lock(mutex_);
                log_.append(buf, static_cast<size_t>(n));
            }
            ::close(fd);
        });
        return pid_ > 0;
    }
    // The port from "listening on http://127.0.0.1:PORT", or -1 after `limit`. (No std::regex:
    // GCC 12 warns inside it under the sanitizer build.)
    int wait_for_port(std::chrono::milliseconds limit) {
        constexpr std::string_view kPrefix = "listening on http://127.0.0.1:";
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            {
                std::lock_guard<std::mutex> lock(mutex_);
                const size_t at = log_.find(kPrefix);
                if (at != std::string::npos) {
                    const size_t begin = at + kPrefix.size();
                    size_t end = begin;
                    while (end < log_.size() && std::isdigit(static_cast<unsigned char>(log_[end]))) ++end;
                    if (end > begin && end < log_.size()) return std::stoi(log_.substr(begin, end - begin));
                }
            }
            std::this_thread::sleep_for(10ms);
        }
        return -1;
    }
    // Exit status, or -1 if still running after `limit`.
    int wait_exit(std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(10ms);
        }
        return -1;
    }
    pid_t pid() const { return pid_; }
    std::string log() {
        std::lock_guard<std::mutex> lock(mutex_);
        return log_;
    }

private:
    pid_t pid_ = -1;
    std::thread reader_;
    std::mutex mutex_;
    std::string log_;
};

// Starts `rocmforge serve` on a free port with `extra` options and waits until /health is 200;
// returns the port (-1 on failure, with the log in `why`).
int start_ready(ServeProcess& p, const std::string& model, const std::vector<std::string>& extra,
                std::string& why) {
    std::vector<std::string> args = {"serve", "-m", model, "--port", "0", "--threads", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    // One engine thread: on a busy 2-core machine a second one mostly waits to be scheduled.
    if (!p.start(args)) return -1;
    const int port = p.wait_for_port(30s);
    if (port <= 0) {
        why = p.log();
        return -1;
    }
    httplib::Client c("127.0.0.1", port);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (get_json(c, "/health").status != 200 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    if (get_json(c, "/health").status == 200) return port;
    why = p.log();
    return -1;
}

// Waits until the server runs at least one sequence (or `finished` is set).
void wait_running(httplib::Client& c, const std::atomic<bool>& finished) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (scrape_metrics(c)["rocmforge_running_sequences"] < 1 && !finished &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(2ms);
    }
}

bool has_error_event(const SseResponse& s) {
    for (const Json& e : s.events) {
        if (e.is_object() && e.contains("error")) return true;
    }
    return false;
}

TEST(ServeProcess, SigtermDrainsInFlightStreamsAndExitsZero) {
    const auto key_file = std::filesystem::temp_directory_path() /
                          ("rf_serve_key_" + std::to_string(::getpid()));
    std::ofstream(key_file) << "file-key\n";
    ServeProcess p;
    std::string why;
    const int port = start_ready(p, server_test_model_path(),
                                 {"--parallel", "2", "--ctx-size", "1024", "--shutdown-timeout", "60",
                                  "--api-key-file", key_file.string()}, why);
    ASSERT_GT(port, 0) << why;
    httplib::Client c("127.0.0.1", port);
    c.set_default_headers({{"Authorization", "Bearer file-key"}});
    c.set_read_timeout(60);
    EXPECT_EQ(get_json(c, "/v1/models").status, 200);

    // A stream is in flight when SIGTERM arrives; it must still complete, whole.
    constexpr int kTokens = 800;
    SseResponse stream;
    std::atomic<bool> finished{false};
    std::thread client([&] {
        httplib::Client sc("127.0.0.1", port);
        sc.set_default_headers({{"Authorization", "Bearer file-key"}});
        sc.set_read_timeout(90);
        stream = post_sse(sc, "/v1/completions",
                          {{"prompt", "a long story"}, {"max_tokens", kTokens}, {"stream", true},
                           {"ignore_eos", true}, {"stream_options", {{"include_usage", true}}}});
        finished = true;
    });
    wait_running(c, finished);
    const auto sigterm = std::chrono::steady_clock::now();
    ASSERT_EQ(::kill(p.pid(), SIGTERM), 0);
    client.join();
    EXPECT_EQ(stream.status, 200) << p.log();
    EXPECT_TRUE(stream.done) << p.log();
    EXPECT_FALSE(has_error_event(stream)) << "the in-flight stream was cut: " << stream.raw;
    ASSERT_GE(stream.events.size(), 2u) << stream.raw;
    EXPECT_EQ(stream.events[stream.events.size() - 2]["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(stream.events.back()["usage"]["completion_tokens"], kTokens);
    EXPECT_EQ(p.wait_exit(30s), 0) << p.log();
    EXPECT_LT(std::chrono::steady_clock::now() - sigterm, 55s) << "exit waited for the deadline";
    EXPECT_LT(connect_loopback(port), 0) << "nothing listens after shutdown";
    EXPECT_NE(p.log().find("SIGTERM received"), std::string::npos) << p.log();
    std::filesystem::remove(key_file);
}

TEST(ServeProcess, SigtermDeadlineCancelsWhatIsLeftAndExitsZero) {
    ServeProcess p;
    std::string why;
    const int port = start_ready(p, slow_server_test_model_path(),
                                 {"--parallel", "2", "--ctx-size", "4096", "--shutdown-timeout", "1"}, why);
    ASSERT_GT(port, 0) << why;
    httplib::Client c("127.0.0.1", port);
    SseResponse stream;
    std::atomic<bool> finished{false};
    std::thread client([&] {
        httplib::Client sc("127.0.0.1", port);
        sc.set_read_timeout(90);
        stream = post_sse(sc, "/v1/completions",
                          {{"prompt", "an endless story"}, {"max_tokens", 4000}, {"stream", true},
                           {"ignore_eos", true}});
        finished = true;
    });
    wait_running(c, finished);
    const auto sigterm = std::chrono::steady_clock::now();
    ASSERT_EQ(::kill(p.pid(), SIGTERM), 0);
    client.join();
    EXPECT_EQ(p.wait_exit(30s), 0) << p.log();
    const auto took = std::chrono::steady_clock::now() - sigterm;
    EXPECT_LT(took, 10s) << "the 1 s deadline was not kept";
    // Cut short: an error event saying why, then the end of the stream.
    EXPECT_EQ(stream.status, 200);
    EXPECT_TRUE(stream.done) << stream.raw.substr(0, 2000);
    EXPECT_TRUE(has_error_event(stream)) << "the stream was not cut at the deadline";
    EXPECT_NE(stream.raw.find("shutting down"), std::string::npos);
    EXPECT_NE(p.log().find("still running at the 1 s deadline"), std::string::npos) << p.log();
}

// `rocmforge bench-serve` drives 16 concurrent streaming clients against `rocmforge serve`;
// every stream must complete whole (finish_reason, usage, [DONE]).
TEST(ServeProcess, SixteenConcurrentStreamingClientsAllComplete) {
    ServeProcess p;
    std::string why;
    const int port = start_ready(p, server_test_model_path(),
                                 {"--parallel", "16", "--ctx-size", "256", "--api-key", "k"}, why);
    ASSERT_GT(port, 0) << why;
    constexpr int kClients = 16, kTokens = 8;
    const std::string command = std::string(RF_ROCMFORGE_BIN) + " bench-serve --url http://127.0.0.1:" +
                                std::to_string(port) + "/v1 --api-key k --model tiny --json -c " +
                                std::to_string(kClients) + " -n " + std::to_string(kClients) +
                                " --max-tokens " + std::to_string(kTokens) + " --prompt-len 16";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) out.append(buf, n);
    const int status = ::pclose(pipe);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
    const Json report = Json::parse(out, nullptr, false);
    ASSERT_TRUE(report.is_object()) << out;
    EXPECT_EQ(report["succeeded"], kClients) << out;
    EXPECT_EQ(report["failed"], 0) << out;
    EXPECT_EQ(report["finish_reasons"]["length"], kClients) << out;
    EXPECT_EQ(report["without_usage"], 0) << out;
    EXPECT_EQ(report["generated_tokens"], kClients * kTokens) << out;
    EXPECT_GT(report["generated_tokens_per_second"].get<double>(), 0.0);
    EXPECT_GT(report["ttft_ms"]["p99"].get<double>(), 0.0);
    EXPECT_GT(report["itl_ms"]["p50"].get<double>(), 0.0);

    httplib::Client c("127.0.0.1", port);
    c.set_default_headers({{"Authorization", "Bearer k"}});
    // A request is counted once its last byte is out, the gauges after each engine step: both
    // may trail the client's [DONE] by a moment.
    const std::string ok_key = "rocmforge_requests_total{endpoint=\"/v1/completions\",status=\"200\"}";
    std::map<std::string, double> m;
    for (const auto deadline = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(10ms)) {
        m = scrape_metrics(c);
        if (m[ok_key] == kClients && m["rocmforge_running_sequences"] == 0) break;
    }
    EXPECT_EQ(m[ok_key], kClients);
    EXPECT_EQ(m["rocmforge_running_sequences"], 0);
    ASSERT_EQ(::kill(p.pid(), SIGTERM), 0);
    EXPECT_EQ(p.wait_exit(30s), 0) << p.log();
}

TEST(ServeProcess, BadArgumentsFailClearly) {
    ServeProcess p;
    ASSERT_TRUE(p.start({"serve", "-m", "/nonexistent/model.gguf", "--port", "0"}));
    EXPECT_EQ(p.wait_exit(30s), 1);
    EXPECT_NE(p.log().find("rocmforge: error:"), std::string::npos) << p.log();
}

}  // namespace
}  // namespace rf::testing
