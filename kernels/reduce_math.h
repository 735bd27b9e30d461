// Element operations of the collectives: reduce, scale, cast. 16-bit types accumulate in fp32 and
// round once per operation, so a reduction of n inputs carries at most n-1 roundings.
#pragma once
#include "float16.h"

namespace dpb {

template <class T>
DPB_HD T add_elem(T a, T b) {
  return from_float<T>(to_float(a) + to_float(b));
}

template <class T>
DPB_HD T scale_elem(T x, float factor) {
  return from_float<T>(to_float(x) * factor);
}

template <class To, class From>
DPB_HD To cast_elem(From x) {
  return from_float<To>(to_float(x));
}

}  // namespace dpb
