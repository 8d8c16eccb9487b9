// overloaded{lambdas...}: one visitor for std::visit from several lambdas. With one lambda per
// alternative and no generic one, a variant alternative left unhandled does not compile.
#pragma once

namespace k8s {

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

}  // namespace k8s
