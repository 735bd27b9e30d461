// The text of command-line flags, parsed once here in bench/ (core receives typed configs):
// comma-separated lists (--algo p2p-ring,p2p-tree, --dtype fp32,bf16, --gpus 1,2,4), and CLI11
// validators for typed scalar options (int_in, number_in), which CLI11 converts once they pass.
// Errors are std::invalid_argument naming the flag and the offending item; a validator's message
// is prefixed with the flag by CLI11.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

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

// CLI11 validators with this project's messages: an integer in [lo, hi]; a finite number in
// [lo, hi], or in (lo, hi] when `above_lo` (e.g. a time that must be positive).
CLI::Validator int_in(long long lo, long long hi);
CLI::Validator number_in(double lo, double hi, bool above_lo = false);

// Prefixes a message with "<flag>: " unless it already starts with the flag.
std::string with_flag(std::string_view flag, const std::string& message);

}  // namespace dpb

#include "cli_lists_impl.h"
