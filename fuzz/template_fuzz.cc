// Fuzz target: message templates and the messages made from untrusted text. The first byte
// chooses: a template (core::RenderTemplate, as status updates and org.yaml use it; or
// notify::ProviderBody under each escaping), or an incident title as an alert's sender wrote it
// (through the webhook and Slack bodies, which must stay valid JSON carrying it unchanged, the
// email and its MIME message, and a provider body that escapes it for JSON).
#include <boost/json/parse.hpp>

#include "core/template.h"
#include "fuzz/fuzz_util.h"
#include "notify/notify.h"

namespace {

using namespace houston;

core::TemplateObject CoreData(const std::string& text) {
  core::TemplateObject incident = {{"id", "42"}, {"title", text}, {"sev", "SEV2"}};
  core::TemplateList components = {core::TemplateObject{{"name", "API"}},
                                   core::TemplateObject{{"name", text}}};
  return {{"incident", incident},
          {"title", text},
          {"components", components},
          {"eta", ""},
          {"has_suspects", true},
          {"update", core::TemplateObject{{"phase", "identified"}, {"public_message", text}}}};
}

notify::Message MessageWith(const std::string& text) {
  notify::Message m;
  m.id = "msg-1";
  m.event = "incident.triggered";
  notify::IncidentRef i;
  i.id = 42;
  i.title = text;
  i.service = "checkout";
  i.service_name = text;
  i.severity = "critical";
  i.status = "triggered";
  i.url = "https://houston.example/incidents/42";
  i.sev = "SEV1";
  m.incidents = {i, i};
  m.ack_url = "https://houston.example/a/1";
  m.resolve_url = "https://houston.example/r/1";
  m.user_id = "ada";
  m.user_name = text;
  m.step = 1;
  m.created_at = TimePoint(std::chrono::seconds(1767225600));
  m.runbook_url = "https://runbooks.example/" + text;
  m.suspects = {text};
  return m;
}

bool ValidJson(const std::string& text) {
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  return !ec;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(fuzz::AsText(data + 1, size - 1));
  switch (data[0] % 3) {
    case 0: {  // core templates
      Status valid = core::ValidateTemplate(text);
      auto rendered = core::RenderTemplate(text, CoreData("a <b> & \"c\""));
      fuzz::Check(valid.ok() == rendered.has_value(), "validation and rendering disagree");
      break;
    }
    case 1: {  // provider bodies, each escaping
      notify::Message m = MessageWith("Disk \"full\" on <db-1> & more\n");
      for (auto escape : {notify::TemplateEscape::kJson, notify::TemplateEscape::kForm,
                          notify::TemplateEscape::kXml, notify::TemplateEscape::kNone}) {
        auto body = notify::ProviderBody(text, m, {"+15550100", escape});
        if (!body) fuzz::Check(!body.error().message().empty(), "an error without a message");
      }
      break;
    }
    case 2: {  // untrusted text inside the messages (the parsers let only UTF-8 in)
      if (!fuzz::ValidUtf8(text)) break;
      notify::Message m = MessageWith(text);
      fuzz::Check(ValidJson(notify::WebhookBody(m)), "the webhook body is not JSON");
      fuzz::Check(ValidJson(notify::SlackBody(m)), "the Slack body is not JSON");
      notify::Email email = notify::EmailFor(m);
      notify::MimeMessage(email, {"houston@example.com", "ada@example.com", m.id, m.created_at});
      auto body =
          notify::ProviderBody(R"({"to":"{{address}}","text":"{{summary}} {{incident.title}}"})", m,
                               {"+15550100", notify::TemplateEscape::kJson});
      fuzz::Check(body.has_value() && ValidJson(*body), "a JSON provider body is not JSON");
      break;
    }
  }
  return 0;
}
