// Abuse of the real server on a loopback port: connection storms, clients that vanish mid-stream
// (their KV blocks must come back), many concurrent streams, and a full queue (429).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "server_harness.h"

namespace rf::testing {
namespace {

using namespace std::chrono_literals;

class RobustnessTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        HarnessOptions o;
        o.ctx = 4096;
        o.slow_model = true;  // generations outlast the test's reactions: clients vanish mid-stream
        o.cache_seqs = 0;     // no prefix cache: an idle server holds no KV blocks at all
        auto h = ServerHarness::start(o);
        ASSERT_TRUE(h.is_ok()) << h.message();
        server_ = std::move(h).value().release();
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    void SetUp() override {
        ASSERT_NE(server_, nullptr);
        client_ = server_->client();
    }
    // Waits until no sequence runs or waits and no response is still being written; returns the
    // metrics seen last.
    std::map<std::string, double> wait_idle(std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        std::map<std::string, double> m;
        do {
            m = scrape_metrics(*client_);
            if (m["rocmforge_running_sequences"] == 0 && m["rocmforge_queue_depth"] == 0 &&
                m["rocmforge_requests_in_flight"] == 0) {
                break;
            }
            std::this_thread::sleep_for(10ms);
        } while (std::chrono::steady_clock::now() < deadline);
        return m;
    }
    static std::string stream_request(const std::string& prompt, int max_tokens) {
        const std::string body = Json{{"prompt", prompt}, {"max_tokens", max_tokens}, {"stream", true},
                                      {"ignore_eos", true}}.dump();
        return "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer test-key\r\n"
               "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body;
    }

    static ServerHarness* server_;
    std::unique_ptr<httplib::Client> client_;
};

ServerHarness* RobustnessTest::server_ = nullptr;

TEST_F(RobustnessTest, ThousandRapidConnectDisconnects) {
    const std::string partial_body = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"pro";
    int connected = 0;
    for (int i = 0; i < 1000; ++i) {
        const int fd = connect_loopback(server_->port(), 2 + i % 250);
        if (fd < 0) continue;
        ++connected;
        switch (i % 5) {
            case 0: break;                                              // connect, close
            case 1: send_all(fd, "POST /v1/comp"); break;               // half a request line
            case 2: send_all(fd, partial_body); break;                  // body cut short
            case 3: send_all(fd, "GET /health HTTP/1.1\r\n\r\n"); break;  // never read the answer
            case 4: {                                                   // reset, no goodbye
                send_all(fd, partial_body);
                const linger abort{1, 0};
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
                break;
            }
        }
        ::close(fd);
    }
    EXPECT_EQ(connected, 1000);
    auto fresh = server_->client();
    EXPECT_EQ(get_json(*fresh, "/health").status, 200);
    auto r = post_json(*fresh, "/v1/completions", {{"prompt", "hello"}, {"max_tokens", 3}});
    EXPECT_EQ(r.status, 200) << r.raw;
}

TEST_F(RobustnessTest, VanishedStreamsFreeTheirKvBlocks) {
    auto before = wait_idle(5s);
    EXPECT_EQ(before["rocmforge_kv_blocks_used"], 0);
    const uint64_t generated_before = server_->stats().tokens_generated;
    constexpr int kClients = 3;  // one slot of --parallel 4 stays free for another client
    constexpr int kMaxTokens = 4000;
    std::vector<int> fds;
    for (int i = 0; i < kClients; ++i) {
        const int fd = connect_loopback(server_->port());
        ASSERT_GE(fd, 0);
        ASSERT_TRUE(send_all(fd, stream_request("vanishing client " + std::to_string(i), kMaxTokens)));
        fds.push_back(fd);
    }
    // Read until each stream has delivered generated text.
    for (int fd : fds) {
        timeval tv{10, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        std::string got;
        char buf[4096];
        while (got.find("\"text\"") == std::string::npos) {
            const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
            ASSERT_GT(n, 0) << "no streamed data";
            got.append(buf, static_cast<size_t>(n));
        }
    }
    // The gauges are published after each engine step, just after the step's tokens went out.
    std::map<std::string, double> during;
    for (const auto deadline = std::chrono::steady_clock::now() + 5s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(5ms)) {
        during = scrape_metrics(*client_);
        if (during["rocmforge_running_sequences"] == kClients) break;
    }
    EXPECT_GT(during["rocmforge_kv_blocks_used"], 0);
    EXPECT_EQ(during["rocmforge_running_sequences"], kClients);

    // Another client streams beside them and through their disappearance, and is served whole.
    constexpr int kOtherTokens = 40;
    SseResponse other;
    std::thread other_client([&] {
        auto c = server_->client();
        other = post_sse(*c, "/v1/completions",
                         {{"prompt", "still here"}, {"max_tokens", kOtherTokens}, {"stream", true},
                          {"ignore_eos", true}, {"stream_options", {{"include_usage", true}}}});
    });
    std::this_thread::sleep_for(20ms);
    for (int fd : fds) ::close(fd);
    other_client.join();
    EXPECT_EQ(other.status, 200) << other.raw;
    EXPECT_TRUE(other.done) << other.raw;
    ASSERT_GE(other.events.size(), 2u) << other.raw;
    EXPECT_EQ(other.events[other.events.size() - 2]["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(other.events.back()["usage"]["completion_tokens"], kOtherTokens);

    auto after = wait_idle(10s);
    EXPECT_EQ(after["rocmforge_running_sequences"], 0);
    EXPECT_EQ(after["rocmforge_kv_blocks_used"], 0) << "cancelled sequences keep no blocks";
    const uint64_t generated = server_->stats().tokens_generated - generated_before;
    EXPECT_LT(generated, static_cast<uint64_t>(kClients * kMaxTokens)) << "streams were cut short, not finished";
    EXPECT_EQ(server_->http().in_flight(), 0);
}

TEST_F(RobustnessTest, SixteenConcurrentStreamsAllComplete) {
    constexpr int kClients = 16;
    static constexpr int kTokens = 24;
    auto body = [](int i) {
        return Json{{"prompt", "client " + std::to_string(i) + " says hello to the world"},
                    {"max_tokens", kTokens}, {"temperature", 0}, {"ignore_eos", true}};
    };
    // Each prompt alone first: the batched streams must produce the same greedy text.
    std::vector<std::string> expected;
    for (int i = 0; i < kClients; ++i) {
        auto r = post_json(*client_, "/v1/completions", body(i));
        ASSERT_EQ(r.status, 200) << r.raw;
        expected.push_back(r.body["choices"][0]["text"]);
    }
    std::vector<SseResponse> results(kClients);
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i) {
        threads.emplace_back([&, i] {
            auto c = server_->client();
            Json b = body(i);
            b["stream"] = true;
            b["stream_options"] = {{"include_usage", true}};
            results[static_cast<size_t>(i)] = post_sse(*c, "/v1/completions", b);
        });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < kClients; ++i) {
        const SseResponse& r = results[static_cast<size_t>(i)];
        ASSERT_EQ(r.status, 200) << "client " << i << ": " << r.raw;
        EXPECT_TRUE(r.done) << "client " << i;
        ASSERT_FALSE(r.events.empty());
        EXPECT_EQ(r.events.back()["usage"]["completion_tokens"], kTokens) << "client " << i;
        ASSERT_GE(r.events.size(), 2u) << "client " << i;
        EXPECT_EQ(r.events[r.events.size() - 2]["choices"][0]["finish_reason"], "length") << "client " << i;
        EXPECT_EQ(sse_text(r), expected[static_cast<size_t>(i)]) << "client " << i;
    }
}

TEST(QueueLimit, FullQueueAnswers429) {
    HarnessOptions o;
    o.parallel = 1;
    o.max_queue = 1;
    o.ctx = 1024;
    o.slow_model = true;
    auto h = ServerHarness::start(o);
    ASSERT_TRUE(h.is_ok()) << h.message();
    ServerHarness& server = **h;
    constexpr int kClients = 6;
    std::vector<SseResponse> results(kClients);
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i) {
        threads.emplace_back([&, i] {
            auto c = server.client();
            results[static_cast<size_t>(i)] = post_sse(
                *c, "/v1/completions",
                {{"prompt", "queue " + std::to_string(i)}, {"max_tokens", 300}, {"stream", true},
                 {"ignore_eos", true}});
        });
    }
    for (auto& t : threads) t.join();
    int ok = 0, busy = 0;
    for (const SseResponse& r : results) {
        if (r.status == 200) {
            ++ok;
            EXPECT_TRUE(r.done);
        } else {
            ASSERT_EQ(r.status, 429) << r.raw;
            ++busy;
            const Json e = Json::parse(r.raw, nullptr, false);
            ASSERT_TRUE(e.is_object()) << r.raw;
            EXPECT_EQ(e["error"]["type"], "rate_limit_error");
        }
    }
    EXPECT_GE(ok, 2);
    EXPECT_GE(busy, 1);
}

}  // namespace
}  // namespace rf::testing
