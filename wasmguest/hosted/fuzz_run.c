// fuzz_run.c — libFuzzer target: instantiate arbitrary bytes, then call every exported function
// with all-zero arguments and read every exported global. Fuel (FUZZ_LIMITS) ends infinite
// loops. Checks that result counts match the export's signature (read by wasm_info).
#include <stdlib.h>
#include <string.h>

#include "../engine/engine.h"
#include "fuzz_common.h"
#include "wasm_info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const eng_limits limits = FUZZ_LIMITS;
  eng_store *s = eng_store_new(&limits);
  if (s == NULL) return 0;
  fuzz_add_spectest(s);
  uint32_t inst = 0;
  eng_error err;
  memset(&err, 0, sizeof err);
  uint32_t st = eng_instantiate(s, data, size, &inst, &err);
  fuzz_check_status(st, &err);
  wasm_info info;
  if (st == HL_STATUS_OK && wasm_info_read(data, size, &info)) {
    for (uint32_t i = 0; i < info.n; i++) {
      const wasm_export *e = &info.exports[i];
      if (e->kind == WASM_EXTERN_GLOBAL) {
        uint64_t out[2];
        uint8_t type;
        st = eng_global_get(s, inst, i, out, &type, &err);
        if (st != HL_STATUS_OK) fuzz_die("eng_global_get of a global export failed", st, &err);
        continue;
      }
      if (e->kind != WASM_EXTERN_FUNC || e->param_slots < 0 || e->param_slots > (int)HL_MAX_VALUES)
        continue;
      uint64_t params[HL_MAX_VALUES] = {0};
      uint64_t results[HL_MAX_VALUES];
      uint32_t nresults = 0;
      memset(&err, 0, sizeof err);
      st = eng_call(s, inst, i, params, (uint32_t)e->param_slots, results, &nresults, &err);
      fuzz_check_status(st, &err);
      if (st == HL_STATUS_OK && e->result_slots >= 0 && nresults != (uint32_t)e->result_slots)
        fuzz_die("result count differs from the signature", st, &err);
      if (st == HL_STATUS_BAD_REQUEST) fuzz_die("call with the signature's arity refused", st, &err);
    }
    wasm_info_free(&info);
  }
  eng_store_free(s);
  return 0;
}
