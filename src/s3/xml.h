// Just enough XML for S3's replies (ListBucketResult, Error,
// VersioningConfiguration): elements found by name, text with its entities
// decoded. Never more than the reply; hostile input gives nothing, not a crash.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iafs::s3 {

// The inner XML of each element named `name` in `xml`, in order (elements of
// one name do not nest in S3's replies). `<name/>` gives "".
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view name);

// The decoded text of the first element named `name`, or nullopt.
std::optional<std::string> xml_text(std::string_view xml, std::string_view name);

// `text` with &amp; &lt; &gt; &quot; &apos; &#N; &#xN; decoded; nullopt for
// an unknown or malformed entity or a character reference XML forbids.
std::optional<std::string> xml_decode(std::string_view text);

}  // namespace iafs::s3
