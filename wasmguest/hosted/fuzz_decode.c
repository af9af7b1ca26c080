// fuzz_decode.c — libFuzzer target: decode, validate, link and instantiate arbitrary bytes
// (eng_instantiate) in a fresh store that holds the spectest module. Besides sanitizer reports,
// it checks that the engine's answer is well-formed.
#include <stdlib.h>
#include <string.h>

#include "../engine/engine.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const eng_limits limits = FUZZ_LIMITS;
  eng_store *s = eng_store_new(&limits);
  if (s == NULL) return 0;
  fuzz_add_spectest(s);
  uint32_t inst = 0;
  eng_error err;
  memset(&err, 0x5a, sizeof err); // the engine must set what it reports
  uint32_t st = eng_instantiate(s, data, size, &inst, &err);
  fuzz_check_status(st, &err);
  eng_store_free(s);
  return 0;
}
