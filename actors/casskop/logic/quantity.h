// resource.Quantity values (k8s.io/apimachinery/pkg/api/resource), exact to the nano unit the
// Go type keeps: what v2.1.0 derives the heap from (generator.go:498 Limits.Memory().Value())
// and how two spellings of one quantity ("2Gi", "2048Mi") are recognised as equal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace casskop {

// The value times 10^9, rounded up as ParseQuantity rounds what it cannot keep. Empty for text
// that is not a quantity, or one too large for this representation (beyond ~10^29).
std::optional<__int128> quantity_nanos(std::string_view text);
// Quantity.Value(): the value rounded up to an integer (bytes for memory).
std::optional<int64_t> quantity_value(std::string_view text);

// Quantity.String() (CanonicalizeBytes, quantity.go): how Go writes a quantity it parsed, and so
// how every quantity of an object v2.1.0 wrote reads ("0.5" is "500m", "2048Mi" is "2Gi", a bare
// number 2 is "2"). Empty for what is not a quantity.
std::optional<std::string> canonical_quantity(std::string_view text);

}  // namespace casskop
