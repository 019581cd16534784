// Numbers as users write them: canonical decimal (ids, indexes, sizes in
// names) and sizes with a unit suffix (the schema's limits, -o mapsize=).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iafs {

// Canonical decimal: digits only, no sign, no leading zero unless "0", at
// most `max`. nullopt for anything else ("007", "+1", "", "1e3").
std::optional<uint64_t> parse_canonical_decimal(std::string_view text, uint64_t max);

// Plain decimal digits (leading zeros allowed, as in a config file) with an
// optional unit suffix, at most `max`. The suffixes mean one thing
// everywhere: K, M, G, T are powers of 1000 (100M = 100,000,000), and
// Ki, Mi, Gi, Ti are powers of 1024 (1Gi = 1,073,741,824). `units` false
// accepts digits only. nullopt for anything else or for a value over `max`.
std::optional<uint64_t> parse_number(std::string_view text, uint64_t max, bool units = true);

// `value` as 16 lowercase hex digits ("00000000000012ab"): XXH3 sums and op ids.
std::string hex_u64(uint64_t value);

}  // namespace iafs
