// fuzz_common.h — shared by the libFuzzer targets: limits, the spectest module and checks of
// the engine's answers (a violated check aborts, which libFuzzer reports as a crash).
#ifndef HL_HOSTED_FUZZ_COMMON_H
#define HL_HOSTED_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/engine.h"
#include "spectest_host.h"

// Small memories and fuel keep every input fast; the depth is deep enough to exercise the
// call stack limit.
#define FUZZ_LIMITS {.max_memory_pages = 256, .max_call_depth = 1000, .fuel = 200000}

static inline void fuzz_die(const char *what, uint32_t st, const eng_error *err) {
  fprintf(stderr, "fuzz: %s (status %u, trap %u)\n", what, st, err->trap);
  abort();
}

// The spectest module, registered, with host print functions, so inputs can import from it.
static inline void fuzz_add_spectest(eng_store *s) {
  eng_error err;
  uint32_t st = spectest_setup(s, true, &err);
  if (st != HL_STATUS_OK) fuzz_die(err.msg, st, &err);
}

// A status must be known, a trap must have a code and every message must be a C string.
static inline void fuzz_check_status(uint32_t st, const eng_error *err) {
  if (st > HL_STATUS_UNSUPPORTED) fuzz_die("unknown status", st, err);
  if (st == HL_STATUS_OK) return;
  if (memchr(err->msg, 0, sizeof err->msg) == NULL) fuzz_die("error message not terminated", st, err);
  if (err->status != st) fuzz_die("err.status differs from the returned status", st, err);
  if (st == HL_STATUS_TRAP && (err->trap == HL_TRAP_NONE || err->trap >= HL_TRAP_COUNT))
    fuzz_die("trap without a valid trap code", st, err);
}

#endif
