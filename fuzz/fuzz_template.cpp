// libFuzzer target: random template text parsed and rendered against a fixed conversation with
// tools, under small limits. Any crash, sanitizer report, leak or hang is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "chat/chat_template.h"

namespace {

const nlohmann::ordered_json& messages() {
    static const nlohmann::ordered_json kMessages = nlohmann::ordered_json::parse(R"([
        {"role": "system", "content": "You are helpful. ünïcödé 🤖"},
        {"role": "user", "content": "  Hello\n\tworld  "},
        {"role": "assistant", "content": "<think>\nhm\n</think>\n\nHi!", "tool_calls": [
            {"id": "call12345", "type": "function", "function": {"name": "f", "arguments": {"a": [1, 2.5, null, true]}}}]},
        {"role": "tool", "tool_call_id": "call12345", "content": "{\"ok\": 1}"},
        {"role": "user", "content": ""}
    ])");
    return kMessages;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto tmpl = rf::chat::ChatTemplate::parse(std::string(reinterpret_cast<const char*>(data), size));
    if (!tmpl.is_ok()) return 0;
    rf::chat::RenderOptions options;
    options.add_generation_prompt = (size & 1) != 0;
    options.bos_token = "<s>";
    options.eos_token = "</s>";
    options.now_unix = 1721995200;
    options.tools = nlohmann::ordered_json::parse(
        R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}])");
    options.extra_context = {{"enable_thinking", false}, {"x", 3}};
    options.limits.max_output_bytes = 1 << 20;
    options.limits.max_steps = 200'000;
    options.limits.max_loop_iterations = 100'000;
    options.limits.max_work_bytes = 64u << 20;
    (void)tmpl->render(messages(), options);
    return 0;
}
