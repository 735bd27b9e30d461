// Comma-separated command-line lists (--algo p2p-ring,p2p-tree, --dtype fp32,bf16, --gpus 1,2,4).
// Errors are std::invalid_argument naming the flag and the offending item.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dpb {

// Splits on commas, trims blanks; empty items ("a,,b", trailing comma, empty text) throw.
std::vector<std::string> split_list(std::string_view text, std::string_view flag);

// Parses each item with `parse` (which may throw std::invalid_argument; its message is prefixed
// with the flag unless it already names it). Duplicates are dropped, first occurrence kept.
template <class T>
std::vector<T> parse_list(std::string_view text, std::string_view flag,
                          const std::function<T(const std::string&)>& parse);

// Positive integers ("1,2,4,8"); `what` says what they count in errors ("rank count").
std::vector<int> parse_positive_int_list(std::string_view text, std::string_view flag);
// Non-negative integers, duplicates KEPT, order kept (--devices 0,0,1).
std::vector<int> parse_index_list(std::string_view text, std::string_view flag);

// Parses one integer in [lo, hi]; throws naming the flag.
long long parse_int(std::string_view text, std::string_view flag, long long lo, long long hi);
// Parses one finite double in [lo, hi]; throws naming the flag.
double parse_double(std::string_view text, std::string_view flag, double lo, double hi);

// Prefixes a message with "<flag>: " unless it already starts with the flag.
std::string with_flag(std::string_view flag, const std::string& message);

}  // namespace dpb

#include "sweep/lists_impl.h"
