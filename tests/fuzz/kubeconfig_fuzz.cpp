// libFuzzer target: any input to parse_kubeconfig either parses or throws config_error. Any other
// exception, a crash or a sanitizer report is a finding. Relative paths resolve under a folder
// that does not exist, so the fuzzer cannot make us read files around it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "k8s/api/connection.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  try {
    (void)k8s::parse_kubeconfig(yaml, "/nonexistent-fuzz-dir", "", "kubeconfig fuzz");
  } catch (const k8s::config_error&) {
  }
  return 0;
}
