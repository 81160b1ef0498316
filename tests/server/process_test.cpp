// `rocmforge serve` as a real process: it prints its port, serves, and on SIGTERM stops
// accepting, lets an in-flight stream finish and exits 0.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
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
    // The port from "listening on http://127.0.0.1:PORT", or -1 after `limit`.
    int wait_for_port(std::chrono::milliseconds limit) {
        const std::regex re("listening on http://127\\.0\\.0\\.1:([0-9]+)");
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            {
                std::lock_guard<std::mutex> lock(mutex_);
                std::smatch m;
                if (std::regex_search(log_, m, re)) return std::stoi(m[1]);
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

TEST(ServeProcess, SigtermDrainsInFlightStreamsAndExitsZero) {
    const auto key_file = std::filesystem::temp_directory_path() /
                          ("rf_serve_key_" + std::to_string(::getpid()));
    std::ofstream(key_file) << "file-key\n";
    ServeProcess p;
    ASSERT_TRUE(p.start({"serve", "-m", server_test_model_path(), "--port", "0", "--parallel", "2",
                         "--ctx-size", "1024", "--threads", "2", "--shutdown-timeout", "20",
                         "--api-key-file", key_file.string()}));
    const int port = p.wait_for_port(30s);
    ASSERT_GT(port, 0) << p.log();
    httplib::Client c("127.0.0.1", port);
    c.set_default_headers({{"Authorization", "Bearer file-key"}});
    c.set_read_timeout(60);
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (get_json(c, "/health").status != 200 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_EQ(get_json(c, "/health").status, 200) << p.log();
    EXPECT_EQ(get_json(c, "/v1/models").status, 200);

    // A long stream is in flight when SIGTERM arrives; it must still complete.
    SseResponse stream;
    std::atomic<bool> finished{false};
    std::thread client([&] {
        httplib::Client sc("127.0.0.1", port);
        sc.set_default_headers({{"Authorization", "Bearer file-key"}});
        sc.set_read_timeout(60);
        stream = post_sse(sc, "/v1/completions",
                          {{"prompt", "a long story"}, {"max_tokens", 600}, {"stream", true},
                           {"ignore_eos", true}});
        finished = true;
    });
    deadline = std::chrono::steady_clock::now() + 10s;
    while (scrape_metrics(c)["rocmforge_running_sequences"] < 1 && !finished &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(2ms);
    }
    ASSERT_EQ(::kill(p.pid(), SIGTERM), 0);
    client.join();
    EXPECT_EQ(stream.status, 200) << p.log();
    EXPECT_TRUE(stream.done) << "the in-flight stream was cut: " << p.log();
    EXPECT_EQ(p.wait_exit(30s), 0) << p.log();
    EXPECT_LT(connect_loopback(port), 0) << "nothing listens after shutdown";
    EXPECT_NE(p.log().find("SIGTERM received"), std::string::npos) << p.log();
    std::filesystem::remove(key_file);
}

TEST(ServeProcess, BadArgumentsFailClearly) {
    ServeProcess p;
    ASSERT_TRUE(p.start({"serve", "-m", "/nonexistent/model.gguf", "--port", "0"}));
    EXPECT_EQ(p.wait_exit(30s), 1);
    EXPECT_NE(p.log().find("rocmforge: error:"), std::string::npos) << p.log();
}

}  // namespace
}  // namespace rf::testing
