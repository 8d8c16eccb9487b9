#!/usr/bin/env bash
# Installs every Debian package the project builds, tests and benchmarks with. Idempotent:
# packages already present are not fetched again, so CI can call it on every run.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang clang-format libclang-rt-14-dev  # compilers, fuzzers
  libcaf-dev             # C++ Actor Framework 0.17 (actors)
  libcpprest-dev         # HTTP client (k8s layer)
  libboost-dev           # Boost.Beast + Asio (kubesim and admin HTTP servers)
  libboost-program-options-dev  # command-line parsing
  rapidjson-dev          # JSON
  libfmt-dev             # formatting
  doctest-dev            # unit tests
  libprotobuf-dev        # protobuf wire primitives: kubesim's application/vnd.kubernetes.protobuf codec
  libyaml-cpp-dev        # YAML (kubeconfig, operator config, kubectl apply input)
  libssl-dev openssl     # TLS, certificate generation
  zlib1g-dev             # needed by cpprestsdk's CMake package
  python3-kubernetes     # official Python client, driven against kubesim in tests
  prometheus             # promtool check metrics validates our /metrics exposition in tests
  curl ca-certificates
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v kubectl >/dev/null; then
  # kubectl is on every machine of this project; it is not a Debian package, so we can only check.
  echo "install-deps: warning: kubectl not found; the kubectl-driven tests will fail" >&2
fi
echo "install-deps: all packages present"
