// The two ways S3 writes a time: ISO 8601 in XML and JSON bodies
// ("2026-12-01T23:11:06.123Z") and RFC 7231 in headers ("Tue, 01 Dec 2026
// 23:11:06 GMT"). Both UTC; ns since the epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace iafs::s3 {

// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)", years 1900–2200, a real
// calendar day; nullopt for anything else.
std::optional<int64_t> parse_iso8601_ns(std::string_view text);

// "Www, DD Mmm YYYY HH:MM:SS GMT"; nullopt for anything else.
std::optional<int64_t> parse_http_date_ns(std::string_view text);

}  // namespace iafs::s3
