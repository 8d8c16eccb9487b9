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

// The last branch of an `if constexpr` chain over a variant's alternatives:
//   else static_assert(k8s::unhandled_alternative<T>, "...");
// so an alternative added later without a branch does not compile either.
template <class T>
inline constexpr bool unhandled_alternative = false;

}  // namespace k8s
