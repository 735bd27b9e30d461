// Message sizes as nccl-tests takes them: `-b 8 -e 256M -f 2` (also --minbytes/--maxbytes/
// --stepfactor). Suffixes K, M, G (optionally followed by B or iB; case-insensitive) are binary:
// 2^10, 2^20, 2^30. Every parse error is a std::invalid_argument whose message starts with the
// flag the user typed, e.g. "-b/--minbytes: '0' is not a positive size".
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dpb {

// Parses one byte size ("8", "1K", "256M", "1G", "64KiB"). Zero, negative, fractional, garbled,
// or overflowing values throw std::invalid_argument naming `flag` and the text.
std::size_t parse_size(std::string_view text, std::string_view flag);

// Human form for tables: "8", "1K", "256M" when exact; otherwise the byte count.
std::string format_size(std::size_t bytes);

struct SizeRange {
  std::size_t min_bytes = 8;
  std::size_t max_bytes = std::size_t{256} << 20;
  std::size_t factor = 2;  // geometric step; must be >= 2

  // Throws std::invalid_argument: max below min names "-e/--maxbytes", factor < 2 names
  // "-f/--stepfactor".
  void validate() const;

  // min, min*f, min*f^2, ... while <= max, as nccl-tests steps (max is included only when it is
  // on that grid).
  std::vector<std::size_t> sizes() const;
};

// Parses a --stepfactor value (an integer >= 2).
std::size_t parse_step_factor(std::string_view text, std::string_view flag);

// Element count for `bytes` of an element of `elem_size` bytes, rounded down like nccl-tests
// (count = bytes / size); the byte count actually moved is then count * elem_size.
inline std::size_t element_count(std::size_t bytes, std::size_t elem_size) { return bytes / elem_size; }

}  // namespace dpb
