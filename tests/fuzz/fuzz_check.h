// FUZZ_CHECK(cond): an invariant of a fuzz target. A violation prints the
// condition and traps, so libFuzzer reports the input as a crash.
#pragma once

#include <cstdio>

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      __builtin_trap();                                                                 \
    }                                                                                   \
  } while (0)
