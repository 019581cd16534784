#include "image/loaders.h"

#include <string_view>

namespace iafs::image_detail {

std::optional<ImageFormat> family_of_loader(const char* loader_class) {
  std::string_view name(loader_class ? loader_class : "");
  for (const auto& loader : kAllowedLoaders) {
    if (name.starts_with(loader.class_name)) return loader.family;
  }
  return std::nullopt;
}

std::string describe_loader(const char* loader_class) {
  std::string name(loader_class ? loader_class : "");
  constexpr std::string_view kPrefix = "VipsForeignLoad";
  constexpr std::string_view kSuffix = "Buffer";
  if (name.starts_with(kPrefix)) name.erase(0, kPrefix.size());
  if (name.ends_with(kSuffix)) name.erase(name.size() - kSuffix.size());
  return name;
}

}  // namespace iafs::image_detail
