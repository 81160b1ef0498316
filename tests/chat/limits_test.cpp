// Hostile templates are rejected with a clear error, quickly: deep nesting, runaway loops and
// recursion, huge outputs, exponential strings, reference cycles; plus value printing checks.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "chat/chat_template.h"
#include "chat/py_format.h"

namespace rf::chat {
namespace {

std::string repeat(const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

// Sanitizers slow the interpreter several times; the bound is on runaway work, not speed.
#if defined(__SANITIZE_ADDRESS__)
constexpr double kMaxSeconds = 60.0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr double kMaxSeconds = 60.0;
#else
constexpr double kMaxSeconds = 10.0;
#endif
#else
constexpr double kMaxSeconds = 10.0;
#endif

// Renders with the given limits and returns the error message ("" when it rendered).
std::string render_error(const std::string& source, Limits limits = {}) {
    const auto start = std::chrono::steady_clock::now();
    auto tmpl = ChatTemplate::parse(source);
    std::string message;
    if (!tmpl.is_ok()) {
        message = tmpl.message();
    } else {
        RenderOptions options;
        options.limits = limits;
        auto out = tmpl->render(nlohmann::ordered_json::array({{{"role", "user"}, {"content", "hi"}}}), options);
        message = out.is_ok() ? "" : out.message();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, kMaxSeconds) << "took " << seconds << " s: " << source.substr(0, 80);
    return message;
}

TEST(ChatLimits, DeeplyNestedExpressionIsRejected) {
    const std::string msg = render_error("{{ " + repeat("(", 5000) + "1" + repeat(")", 5000) + " }}");
    EXPECT_NE(msg.find("nests deeper"), std::string::npos) << msg;
    EXPECT_NE(render_error("{{ " + repeat("[", 3000) + repeat("]", 3000) + " }}").find("nests deeper"), std::string::npos);
    EXPECT_NE(render_error("{{ " + repeat("not ", 3000) + "x }}").find("nests deeper"), std::string::npos);
    EXPECT_NE(render_error("{{ " + repeat("-", 3000) + "1 }}").find("nests deeper"), std::string::npos);
}

TEST(ChatLimits, DeeplyNestedBlocksAreRejected) {
    const std::string msg = render_error(repeat("{% if true %}", 2000) + "x" + repeat("{% endif %}", 2000));
    EXPECT_NE(msg.find("nests deeper"), std::string::npos) << msg;
    const std::string loops = render_error(repeat("{% for i in [1] %}", 2000) + repeat("{% endfor %}", 2000));
    EXPECT_NE(loops.find("nests deeper"), std::string::npos) << loops;
}

TEST(ChatLimits, ModerateNestingStillWorks) {
    EXPECT_EQ(render_error(repeat("{% if true %}", 40) + "x" + repeat("{% endif %}", 40)), "");
    EXPECT_EQ(render_error("{{ " + repeat("(", 30) + "1" + repeat(")", 30) + " }}"), "");
}

TEST(ChatLimits, InfiniteMacroRecursionIsRejected) {
    const std::string msg = render_error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}");
    EXPECT_NE(msg.find("nest deeper"), std::string::npos) << msg;
    const std::string loop = render_error("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}");
    EXPECT_NE(loop.find("deeper"), std::string::npos) << loop;
}

TEST(ChatLimits, RunawayLoopsStop) {
    const std::string msg =
        render_error("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}");
    EXPECT_NE(msg.find("loop iterations"), std::string::npos) << msg;
    Limits steps;
    steps.max_steps = 100000;
    const std::string step_msg = render_error("{% for a in range(100000) %}{{ a + a * a }}{% endfor %}", steps);
    EXPECT_NE(step_msg.find("evaluation steps"), std::string::npos) << step_msg;
}

TEST(ChatLimits, HugeOutputIsRejected) {
    Limits limits;
    limits.max_output_bytes = 1 << 20;
    const std::string msg = render_error(
        "{% for a in range(100000) %}{% for b in range(10) %}0123456789abcdef{% endfor %}{% endfor %}", limits);
    EXPECT_NE(msg.find("output exceeds"), std::string::npos) << msg;
}

TEST(ChatLimits, ExponentialStringsAreRejected) {
    const std::string msg = render_error(
        "{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}");
    EXPECT_NE(msg.find("exceeds"), std::string::npos) << msg;
    const std::string mul = render_error("{{ 'x' * 100000000000 }}");
    EXPECT_NE(mul.find("too large"), std::string::npos) << mul;
    const std::string list = render_error("{{ [1, 2] * 10000000000 }}");
    EXPECT_NE(list.find("too large"), std::string::npos) << list;
}

TEST(ChatLimits, ManyLargeValuesHitTheAllocationBudget) {
    Limits limits;
    limits.max_work_bytes = 64 << 20;
    const std::string msg = render_error(
        "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [('x' * 1000000) ~ i] %}"
        "{% endfor %}",
        limits);
    EXPECT_NE(msg.find("bytes of work"), std::string::npos) << msg;
}

TEST(ChatLimits, RepeatedLinearWorkHitsTheWorkBudget) {
    // Each step is cheap to count but scans a large value: the work meter stops it.
    const std::string scan = render_error(
        "{% set big = range(100000)|list %}{% for i in range(100000) %}{% if -1 in big %}{% endif %}{% endfor %}");
    EXPECT_NE(scan.find("bytes of work"), std::string::npos) << scan;
    const std::string find = render_error(
        "{% set s = 'x' * 10000000 %}{% for i in range(100000) %}{{ s.find('y') }}{% endfor %}");
    EXPECT_NE(find.find("bytes of work"), std::string::npos) << find;
    const std::string compare = render_error(
        "{% set a = 'x' * 10000000 %}{% set b = 'x' * 10000000 %}{% for i in range(100000) %}{{ a == b }}{% endfor %}");
    EXPECT_NE(compare.find("bytes of work"), std::string::npos) << compare;
}

TEST(ChatLimits, LargeCollectionsStayLinear) {
    EXPECT_EQ(render_error("{{ range(100000)|unique|list|length }}{{ dict(range(100000)|batch(2)|list)|length }}"), "");
    std::string many_names;
    for (int i = 0; i < 20000; ++i) many_names += "{% set v" + std::to_string(i) + " = " + std::to_string(i) + " %}{{ v" + std::to_string(i) + " }}";
    EXPECT_EQ(render_error(many_names), "");
    std::string many_attrs = "{% set ns = namespace() %}";
    for (int i = 0; i < 20000; ++i) many_attrs += "{% set ns.a" + std::to_string(i) + " = ns.a" + std::to_string(i) + " is defined %}";
    EXPECT_EQ(render_error(many_attrs), "");
}

TEST(ChatLimits, NamespaceCyclesAndDeepValuesAreRejected) {
    EXPECT_NE(render_error("{% set ns = namespace() %}{% set ns.me = ns %}").find("namespace"), std::string::npos);
    EXPECT_NE(render_error("{% set ns = namespace() %}{% set ns.l = [1, [ns]] %}").find("namespace"), std::string::npos);
    const std::string deep = render_error(
        "{% set ns = namespace(v=[]) %}{% for i in range(5000) %}{% set ns.v = [ns.v] %}{% endfor %}{{ ns.v }}");
    EXPECT_NE(deep.find("deep"), std::string::npos) << deep;
}

TEST(ChatLimits, RangeIsBoundedLikeTheSandbox) {
    EXPECT_NE(render_error("{{ range(100001)|length }}").find("MAX_RANGE"), std::string::npos);
    EXPECT_EQ(render_error("{{ range(100000)|length }}"), "");
}

TEST(ChatLimits, InvalidInputIsRejected) {
    EXPECT_NE(render_error("{{ 'a' }}\xff\xfe").find("UTF-8"), std::string::npos);
    EXPECT_NE(render_error(std::string(kMaxTemplateBytes + 1, 'x')).find("bytes"), std::string::npos);
    auto tmpl = ChatTemplate::parse("{{ messages }}");
    ASSERT_TRUE(tmpl.is_ok());
    EXPECT_FALSE(tmpl->render(nlohmann::ordered_json::object(), RenderOptions{}).is_ok());
    nlohmann::ordered_json deep = nlohmann::ordered_json::array();
    for (int i = 0; i < 1000; ++i) deep = nlohmann::ordered_json::array({deep});
    const auto out = tmpl->render(nlohmann::ordered_json::array({{{"role", "user"}, {"content", deep}}}), RenderOptions{});
    ASSERT_FALSE(out.is_ok());
    EXPECT_NE(out.message().find("deeper"), std::string::npos) << out.message();
}

TEST(ChatLimits, ErrorsNameLineAndColumn) {
    const std::string msg = render_error("line one\n{{ 1 +* 2 }}");
    EXPECT_EQ(msg.rfind("line 2, column ", 0), 0u) << msg;
    const std::string runtime = render_error("a\nb\n  {{ 'x' + 1 }}");
    EXPECT_EQ(runtime.rfind("line 3, column ", 0), 0u) << runtime;
    EXPECT_NE(runtime.find("can only concatenate str"), std::string::npos) << runtime;
    const std::string raised = render_error("{{ raise_exception('Roles must alternate') }}");
    EXPECT_NE(raised.find("Roles must alternate"), std::string::npos) << raised;
}

TEST(ChatLimits, LongConversationRendersQuickly) {
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    for (int i = 0; i < 5000; ++i) {
        messages.push_back({{"role", i % 2 == 0 ? "user" : "assistant"}, {"content", "message number " + std::to_string(i)}});
    }
    auto tmpl = ChatTemplate::parse(
        "{% set ns = namespace(n=0) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.n = ns.n + 1 %}{% endif %}"
        "{{ '<|im_start|>' + m.role + '\\n' + m.content | trim + '<|im_end|>\\n' }}{% endfor %}{{ ns.n }}");
    ASSERT_TRUE(tmpl.is_ok()) << tmpl.message();
    const auto start = std::chrono::steady_clock::now();
    auto out = tmpl->render(messages, RenderOptions{});
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(out.is_ok()) << out.message();
    EXPECT_LT(ms, kMaxSeconds * 200.0);
    EXPECT_EQ(out->substr(out->size() - 4), "2500");
}

TEST(PyFormat, FloatReprMatchesPython) {
    const std::pair<double, const char*> cases[] = {
        {1e16, "1e+16"},          {1e15, "1000000000000000.0"},
        {0.1, "0.1"},             {1.0 / 3.0, "0.3333333333333333"},
        {123456789012345678.0, "1.2345678901234568e+17"},
        {5e-324, "5e-324"},       {1.7976931348623157e308, "1.7976931348623157e+308"},
        {0.0001, "0.0001"},       {0.00001, "1e-05"},
        {100.0, "100.0"},         {-0.0, "-0.0"},
        {9007199254740993.0, "9007199254740992.0"}, {2.5e-7, "2.5e-07"},
    };
    for (const auto& [value, text] : cases) EXPECT_EQ(py::float_repr(value), text);
}

}  // namespace
}  // namespace rf::chat
