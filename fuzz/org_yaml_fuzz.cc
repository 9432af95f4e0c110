// Fuzz target: config::ParseOrg, org.yaml (written by people, reviewed less than code; `houston
// org apply` and the server read it). An accepted org flattens, and an org diffed against
// itself has no changes.
#include "config/config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace houston;
  auto org = config::ParseOrg(fuzz::AsText(data, size), "org.yaml");
  if (!org) {
    fuzz::Check(!org.error().message().empty(), "an error without a message");
    return 0;
  }
  std::vector<config::OrgObject> flat = config::Flatten(*org);
  fuzz::Check(config::Diff(flat, flat).empty(), "an org differs from itself");
  fuzz::Check(config::Flatten(*org, /*redacted=*/true).size() == flat.size(),
              "redacting changes the objects");
  return 0;
}
