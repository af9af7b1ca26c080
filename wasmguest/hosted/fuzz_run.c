// fuzz_run.c — libFuzzer target: instantiate arbitrary bytes, then call every exported function
// with all-zero arguments and read every exported global. Fuel (FUZZ_LIMITS) ends infinite
// loops. Checks the API contract on the way: result counts match the export's signature (read
// by wasm_info), a wrong arity is BAD_REQUEST, and calls or reads of the wrong kind of export,
// or of an index past the end, fail.
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
  uint64_t params[HL_MAX_VALUES + 1] = {0}; // all-zero arguments
  uint64_t results[HL_MAX_VALUES], out[2];
  uint32_t nresults;
  uint8_t type;
  if (st == HL_STATUS_OK && wasm_info_read(data, size, &info)) {
    for (uint32_t i = 0; i < info.n; i++) {
      const wasm_export *e = &info.exports[i];
      memset(&err, 0, sizeof err);
      if (e->kind != WASM_EXTERN_FUNC) {
        // Only function exports can be called; only globals read.
        st = eng_call(s, inst, i, params, 0, results, &nresults, &err);
        if (st == HL_STATUS_OK) fuzz_die("eng_call of a non-function export succeeded", st, &err);
        st = eng_global_get(s, inst, i, out, &type, &err);
        if ((st == HL_STATUS_OK) != (e->kind == WASM_EXTERN_GLOBAL))
          fuzz_die("eng_global_get of a global failed, or of a non-global succeeded", st, &err);
        continue;
      }
      st = eng_global_get(s, inst, i, out, &type, &err);
      if (st == HL_STATUS_OK) fuzz_die("eng_global_get of a function export succeeded", st, &err);
      if (e->param_slots < 0 || e->param_slots > (int)HL_MAX_VALUES) continue;
      uint32_t np = (uint32_t)e->param_slots;
      // The wrong arity is refused without running anything.
      st = eng_call(s, inst, i, params, np + 1, results, &nresults, &err);
      if (st != HL_STATUS_BAD_REQUEST) fuzz_die("a call with too many parameters ran", st, &err);
      memset(&err, 0, sizeof err);
      st = eng_call(s, inst, i, params, np, results, &nresults, &err);
      fuzz_check_status(st, &err);
      if (st == HL_STATUS_OK && e->result_slots >= 0 && nresults != (uint32_t)e->result_slots)
        fuzz_die("result count differs from the signature", st, &err);
      // All-zero arguments are refused only for a non-nullable reference parameter (typed
      // function references: null is not a value of (ref ht)).
      if (st == HL_STATUS_BAD_REQUEST && strcmp(err.msg, "null for a non-nullable reference parameter") != 0)
        fuzz_die("call with the signature's arity refused", st, &err);
    }
    // Export indexes past the end are refused.
    if (eng_call(s, inst, info.n, params, 0, results, &nresults, &err) == HL_STATUS_OK ||
        eng_global_get(s, inst, info.n, out, &type, &err) == HL_STATUS_OK)
      fuzz_die("an export index past the end was accepted", HL_STATUS_OK, &err);
    wasm_info_free(&info);
  }
  eng_store_free(s);
  return 0;
}
