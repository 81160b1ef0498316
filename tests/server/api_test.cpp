// The OpenAI-compatible endpoints against the real server on a loopback port: response shapes,
// streaming, sampling fields, logprobs, prefix caching, authentication and every error path.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>

#include "server_harness.h"

namespace rf::testing {
namespace {

class ApiTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto h = ServerHarness::start(HarnessOptions{});
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

    // Greedy completion of `prompt`, exactly `n` tokens.
    JsonResponse complete(const std::string& prompt, int n, Json extra = Json::object()) {
        Json body = {{"model", "tiny"}, {"prompt", prompt}, {"max_tokens", n},
                     {"temperature", 0}, {"ignore_eos", true}};
        for (auto it = extra.begin(); it != extra.end(); ++it) body[it.key()] = it.value();
        return post_json(*client_, "/v1/completions", body);
    }

    static ServerHarness* server_;
    std::unique_ptr<httplib::Client> client_;
};

ServerHarness* ApiTest::server_ = nullptr;

void expect_error(const JsonResponse& r, int status, const std::string& param = "") {
    EXPECT_EQ(r.status, status) << r.raw;
    ASSERT_TRUE(r.body.is_object()) << r.raw;
    ASSERT_TRUE(r.body.contains("error")) << r.raw;
    const Json& e = r.body["error"];
    EXPECT_TRUE(e["message"].is_string());
    EXPECT_FALSE(e["message"].get<std::string>().empty());
    EXPECT_TRUE(e["type"].is_string());
    EXPECT_TRUE(e.contains("param"));
    EXPECT_TRUE(e.contains("code"));
    if (!param.empty()) {
        EXPECT_EQ(e["param"], param) << r.raw;
    }
}

TEST_F(ApiTest, HealthAndModels) {
    httplib::Client anonymous("127.0.0.1", server_->port());
    auto health = get_json(anonymous, "/health");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.body["status"], "ok");

    auto models = get_json(*client_, "/v1/models");
    ASSERT_EQ(models.status, 200) << models.raw;
    EXPECT_EQ(models.body["object"], "list");
    ASSERT_EQ(models.body["data"].size(), 1u);
    EXPECT_EQ(models.body["data"][0]["id"], "tiny");
    EXPECT_EQ(models.body["data"][0]["object"], "model");

    EXPECT_EQ(get_json(*client_, "/v1/models/tiny").status, 200);
    expect_error(get_json(*client_, "/v1/models/gpt-4"), 404, "model");
}

TEST_F(ApiTest, CompletionShapeAndUsage) {
    auto r = complete("hello world", 8);
    ASSERT_EQ(r.status, 200) << r.raw;
    EXPECT_EQ(r.body["object"], "text_completion");
    EXPECT_TRUE(r.body["id"].get<std::string>().starts_with("cmpl-"));
    EXPECT_EQ(r.body["model"], "tiny");
    ASSERT_EQ(r.body["choices"].size(), 1u);
    const Json& c = r.body["choices"][0];
    EXPECT_EQ(c["index"], 0);
    EXPECT_TRUE(c["text"].is_string());
    EXPECT_EQ(c["finish_reason"], "length");
    EXPECT_TRUE(c["logprobs"].is_null());
    const Json& u = r.body["usage"];
    EXPECT_EQ(u["completion_tokens"], 8);
    EXPECT_GT(u["prompt_tokens"].get<int>(), 1);
    EXPECT_EQ(u["total_tokens"].get<int>(), u["prompt_tokens"].get<int>() + 8);
}

TEST_F(ApiTest, GreedyIsDeterministicAndPrefixCacheKeepsOutput) {
    const std::string prompt = "the river and the stone and the green world story";
    auto a = complete(prompt, 12);
    auto b = complete(prompt, 12);  // served from the prefix cache
    ASSERT_EQ(a.status, 200);
    ASSERT_EQ(b.status, 200);
    EXPECT_EQ(a.body["choices"][0]["text"], b.body["choices"][0]["text"]);
    EXPECT_GT(b.body["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 0);
}

TEST_F(ApiTest, StopStringEndsTheTextBeforeIt) {
    auto full = complete("hello you are the system", 24);
    ASSERT_EQ(full.status, 200);
    const std::string text = full.body["choices"][0]["text"];
    if (text.size() < 8) GTEST_SKIP() << "the random model produced too little text";
    // An ASCII pair from the second half (the random text may hold U+FFFD replacements).
    std::string stop;
    for (size_t i = text.size() / 2; i + 1 < text.size() && stop.empty(); ++i) {
        const auto c0 = static_cast<unsigned char>(text[i]), c1 = static_cast<unsigned char>(text[i + 1]);
        if (c0 >= 0x20 && c0 < 0x7f && c1 >= 0x20 && c1 < 0x7f) stop = text.substr(i, 2);
    }
    if (stop.empty()) GTEST_SKIP() << "no ASCII pair in the random text";
    auto cut = complete("hello you are the system", 24, {{"stop", Json::array({stop, "zzzz"})}});
    ASSERT_EQ(cut.status, 200);
    EXPECT_EQ(cut.body["choices"][0]["text"], text.substr(0, text.find(stop)));
    EXPECT_EQ(cut.body["choices"][0]["finish_reason"], "stop");
}

TEST_F(ApiTest, PromptArraysAndChoices) {
    Json body = {{"prompt", Json::array({"hello", "world"})}, {"n", 2}, {"max_tokens", 3},
                 {"seed", 42}, {"temperature", 1.0}, {"ignore_eos", true}};
    auto r = post_json(*client_, "/v1/completions", body);
    ASSERT_EQ(r.status, 200) << r.raw;
    ASSERT_EQ(r.body["choices"].size(), 4u);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(r.body["choices"][i]["index"], i);
    EXPECT_EQ(r.body["usage"]["completion_tokens"], 12);
    auto again = post_json(*client_, "/v1/completions", body);
    EXPECT_EQ(again.body["choices"], r.body["choices"]) << "same seed, same text";

    auto tokens = post_json(*client_, "/v1/completions",
                            {{"prompt", Json::array({1, 270, 280})}, {"max_tokens", 2}});
    EXPECT_EQ(tokens.status, 200) << tokens.raw;
    EXPECT_EQ(tokens.body["usage"]["prompt_tokens"], 3);
}

TEST_F(ApiTest, CompletionLogprobs) {
    auto r = complete("hello", 4, {{"logprobs", 2}});
    ASSERT_EQ(r.status, 200) << r.raw;
    const Json& lp = r.body["choices"][0]["logprobs"];
    ASSERT_EQ(lp["tokens"].size(), 4u);
    ASSERT_EQ(lp["token_logprobs"].size(), 4u);
    ASSERT_EQ(lp["top_logprobs"].size(), 4u);
    EXPECT_GE(lp["top_logprobs"][0].size(), 1u);  // pieces that print the same share a key
    EXPECT_LE(lp["top_logprobs"][0].size(), 2u);
    EXPECT_LE(lp["token_logprobs"][0].get<double>(), 0.0);
}

TEST_F(ApiTest, ChatCompletionAndStreamAgree) {
    Json body = {{"model", "tiny"},
                 {"messages", Json::array({{{"role", "system"}, {"content", "you are green"}},
                                           {{"role", "user"}, {"content", "hello world"}}})},
                 {"max_tokens", 10}, {"temperature", 0}, {"ignore_eos", true}};
    auto whole = post_json(*client_, "/v1/chat/completions", body);
    ASSERT_EQ(whole.status, 200) << whole.raw;
    EXPECT_EQ(whole.body["object"], "chat.completion");
    const Json& msg = whole.body["choices"][0]["message"];
    EXPECT_EQ(msg["role"], "assistant");
    EXPECT_EQ(whole.body["choices"][0]["finish_reason"], "length");

    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
    auto s = post_sse(*client_, "/v1/chat/completions", body);
    ASSERT_EQ(s.status, 200) << s.raw;
    EXPECT_TRUE(s.done) << "the stream must end with data: [DONE]";
    ASSERT_GE(s.events.size(), 3u);
    EXPECT_EQ(s.events.front()["object"], "chat.completion.chunk");
    EXPECT_EQ(s.events.front()["choices"][0]["delta"]["role"], "assistant");
    EXPECT_EQ(sse_text(s), msg["content"].get<std::string>());
    const Json& last = s.events.back();
    EXPECT_TRUE(last["choices"].empty());
    EXPECT_EQ(last["usage"]["completion_tokens"], 10);
    const Json& finish = s.events[s.events.size() - 2];
    EXPECT_EQ(finish["choices"][0]["finish_reason"], "length");
    EXPECT_TRUE(finish["usage"].is_null());
}

TEST_F(ApiTest, ChatRolesPartsAndLogprobs) {
    Json body = {{"messages", Json::array({{{"role", "developer"}, {"content", "be brief"}},
                                           {{"role", "user"},
                                            {"content", Json::array({{{"type", "text"}, {"text", "hi"}}})}},
                                           {{"role", "assistant"}, {"content", "hello"}},
                                           {{"role", "tool"}, {"content", "42"}, {"tool_call_id", "c1"}}})},
                 {"max_completion_tokens", 3}, {"logprobs", true}, {"top_logprobs", 3},
                 {"ignore_eos", true}, {"some_future_field", {{"x", 1}}}};
    auto r = post_json(*client_, "/v1/chat/completions", body);
    ASSERT_EQ(r.status, 200) << r.raw;
    const Json& content = r.body["choices"][0]["logprobs"]["content"];
    ASSERT_EQ(content.size(), 3u);
    EXPECT_EQ(content[0]["top_logprobs"].size(), 3u);
    EXPECT_TRUE(content[0]["bytes"].is_array());
}

TEST_F(ApiTest, StreamedCompletion) {
    Json body = {{"prompt", "story"}, {"max_tokens", 6}, {"stream", true}, {"ignore_eos", true},
                 {"temperature", 0}};
    auto s = post_sse(*client_, "/v1/completions", body);
    ASSERT_EQ(s.status, 200);
    EXPECT_TRUE(s.done);
    ASSERT_FALSE(s.events.empty());
    EXPECT_EQ(s.events.back()["choices"][0]["finish_reason"], "length");
    body.erase("stream");
    auto whole = post_json(*client_, "/v1/completions", body);
    EXPECT_EQ(sse_text(s), whole.body["choices"][0]["text"].get<std::string>());
}

TEST_F(ApiTest, TokenizeRoundTrip) {
    auto t = post_json(*client_, "/tokenize", {{"content", "hello world"}, {"with_pieces", true}});
    ASSERT_EQ(t.status, 200) << t.raw;
    std::vector<int> ids;
    for (const Json& tok : t.body["tokens"]) ids.push_back(tok["id"]);
    ASSERT_GE(ids.size(), 2u);
    EXPECT_EQ(ids[0], 1) << "BOS first";
    ids.erase(ids.begin());
    auto d = post_json(*client_, "/detokenize", {{"tokens", ids}});
    ASSERT_EQ(d.status, 200) << d.raw;
    EXPECT_EQ(d.body["content"], "hello world");
    expect_error(post_json(*client_, "/detokenize", {{"tokens", Json::array({100000})}}), 400, "tokens");
}

TEST_F(ApiTest, MalformedAndMistypedBodies) {
    expect_error(post_raw(*client_, "/v1/completions", "{\"prompt\": \"x\","), 400);
    expect_error(post_raw(*client_, "/v1/completions", "not json at all"), 400);
    expect_error(post_raw(*client_, "/v1/completions", "[1, 2, 3]"), 400);
    expect_error(post_raw(*client_, "/v1/completions", std::string(200, '[') + std::string(200, ']')), 400);
    expect_error(post_raw(*client_, "/v1/chat/completions", "{\"messages\": \"\xff\xfe\"}"), 400);
    expect_error(post_raw(*client_, "/v1/completions", ""), 400);
    expect_error(post_json(*client_, "/v1/completions", {{"prompt", "x"}, {"max_tokens", "ten"}}), 400, "max_tokens");
    expect_error(post_json(*client_, "/v1/completions", {{"prompt", "x"}, {"max_tokens", -1}}), 400, "max_tokens");
    expect_error(post_json(*client_, "/v1/completions", {{"prompt", "x"}, {"temperature", 9}}), 400, "temperature");
    expect_error(post_json(*client_, "/v1/completions", {{"prompt", "x"}, {"top_p", "high"}}), 400, "top_p");
    expect_error(post_json(*client_, "/v1/completions", {{"prompt", "x"}, {"stream", 1}}), 400, "stream");
    expect_error(post_json(*client_, "/v1/completions", {{"prompt", "x"}, {"stop", 5}}), 400, "stop");
    expect_error(post_json(*client_, "/v1/completions", {{"prompt", "x"}, {"n", 0}}), 400, "n");
    expect_error(post_json(*client_, "/v1/completions", {{"prompt", "x"}, {"logit_bias", {{"abc", 1}}}}), 400, "logit_bias");
    expect_error(post_json(*client_, "/v1/completions", {{"prompt", 42}}), 400, "prompt");
    expect_error(post_json(*client_, "/v1/completions", {{"prompt", Json::array({1, -5})}}), 400, "prompt");
    expect_error(post_json(*client_, "/v1/completions", {{"max_tokens", 3}}), 400, "prompt");
    expect_error(post_json(*client_, "/v1/chat/completions", {{"messages", "hi"}}), 400, "messages");
    expect_error(post_json(*client_, "/v1/chat/completions", {{"messages", Json::array()}}), 400, "messages");
    expect_error(post_json(*client_, "/v1/chat/completions",
                           {{"messages", Json::array({{{"role", "wizard"}, {"content", "x"}}})}}), 400);
    expect_error(post_json(*client_, "/v1/chat/completions",
                           {{"messages", Json::array({{{"role", "user"}}})}}), 400);
    expect_error(post_json(*client_, "/v1/chat/completions",
                           {{"messages", Json::array({{{"role", "user"}, {"content", "x"}}})},
                            {"top_logprobs", 2}}), 400, "top_logprobs");
    // The server is still fine afterwards.
    EXPECT_EQ(complete("hello", 2).status, 200);
}

TEST_F(ApiTest, PromptLongerThanContextIsAClear400) {
    std::string prompt;
    for (int i = 0; i < 600; ++i) prompt += " the";
    auto r = complete(prompt, 4);
    expect_error(r, 400, "prompt");
    EXPECT_EQ(r.body["error"]["code"], "context_length_exceeded");
    EXPECT_NE(r.body["error"]["message"].get<std::string>().find("maximum context length is 512"),
              std::string::npos) << r.raw;
}

TEST_F(ApiTest, OversizedBodyIs413) {
    std::string big = "{\"prompt\": \"" + std::string(100 * 1024, 'a') + "\"}";
    auto r = post_raw(*client_, "/v1/completions", big);
    expect_error(r, 413);
    auto fresh = server_->client();
    EXPECT_EQ(get_json(*fresh, "/v1/models").status, 200);

    // Without a Content-Length (chunked transfer encoding) the limit holds while reading.
    const int fd = connect_loopback(server_->port());
    ASSERT_GE(fd, 0);
    const std::string chunk(32 * 1024, 'a');
    std::string request = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer test-key\r\n"
                          "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    char size_line[32];
    std::snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk.size());
    for (int i = 0; i < 4; ++i) request += size_line + chunk + "\r\n";
    request += "0\r\n\r\n";
    send_all(fd, request);  // the server may close before taking all of it
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string reply;
    char buf[4096];
    for (ssize_t n; reply.find("\r\n\r\n") == std::string::npos && (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) {
        reply.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply;
}

TEST_F(ApiTest, ApiKeyIsRequired) {
    httplib::Client anonymous("127.0.0.1", server_->port());
    expect_error(post_json(anonymous, "/v1/completions", {{"prompt", "x"}}), 401);
    expect_error(get_json(anonymous, "/v1/models"), 401);
    httplib::Client wrong("127.0.0.1", server_->port());
    wrong.set_default_headers({{"Authorization", "Bearer nope"}});
    auto r = get_json(wrong, "/v1/models");
    expect_error(r, 401);
    EXPECT_EQ(r.body["error"]["code"], "invalid_api_key");
    expect_error(get_json(wrong, "/metrics"), 401);
}

TEST_F(ApiTest, UnknownRouteIs404) {
    expect_error(get_json(*client_, "/v2/nothing"), 404);
    expect_error(post_json(*client_, "/v1/embeddings", {{"input", "x"}}), 404);
}

TEST_F(ApiTest, MetricsExposeTheRequiredSeries) {
    ASSERT_EQ(complete("hello", 2).status, 200);
    auto m = scrape_metrics(*client_);
    EXPECT_GE(m["rocmforge_requests_total{endpoint=\"/v1/completions\",status=\"200\"}"], 1.0);
    EXPECT_GE(m["rocmforge_requests_total{endpoint=\"/v1/completions\",status=\"400\"}"], 0.0);
    EXPECT_GT(m["rocmforge_prompt_tokens_total"], 0.0);
    EXPECT_GT(m["rocmforge_generation_tokens_total"], 0.0);
    EXPECT_GT(m["rocmforge_time_to_first_token_seconds_count"], 0.0);
    EXPECT_GT(m["rocmforge_inter_token_latency_seconds_count"], 0.0);
    EXPECT_TRUE(m.count("rocmforge_queue_depth"));
    EXPECT_TRUE(m.count("rocmforge_running_sequences"));
    EXPECT_TRUE(m.count("rocmforge_kv_blocks_used"));
    EXPECT_GT(m["rocmforge_kv_blocks_total"], 0.0);
}

TEST(ServerLoading, HealthIs503UntilTheModelIsReady) {
    HarnessOptions o;
    o.load_model = false;
    auto h = ServerHarness::start(o);
    ASSERT_TRUE(h.is_ok()) << h.message();
    auto c = (*h)->client();
    auto health = get_json(*c, "/health");
    EXPECT_EQ(health.status, 503);
    EXPECT_EQ(health.body["status"], "loading");
    expect_error(post_json(*c, "/v1/completions", {{"prompt", "x"}}), 503);
}

}  // namespace
}  // namespace rf::testing
