#include <string>

#include "commands.h"

namespace dpb::cli {

std::string readable_parse_error(const std::string& message) {
  // CLI11: "<name>: At Most 1 required but received <n>" for an option given more than once.
  const std::string marker = ": At Most 1 required but received ";
  if (const auto at = message.find(marker); at != std::string::npos) {
    const std::string name = message.substr(0, at), times = message.substr(at + marker.size());
    return name + ": given " + times + " times; give it once (a list is one comma-separated value, e.g. " + name +
           " 1,2,4)";
  }
  return message;
}

}  // namespace dpb::cli
