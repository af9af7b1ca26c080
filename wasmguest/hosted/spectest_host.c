// spectest_host.c — see spectest_host.h.
#include "spectest_host.h"

#include <stdio.h>
#include <string.h>

#include "plat_hosted.h"

// The functions tests/spectest/spectest.wat defines, in order (host id = index), with their parameter counts.
static const struct {
  const char *name;
  uint32_t nparams;
} print_funcs[] = {
    {"print", 0},     {"print_i32", 1},     {"print_i64", 1},     {"print_f32", 1},
    {"print_f64", 1}, {"print_i32_f32", 2}, {"print_f64_f64", 2},
};
enum { NPRINT = sizeof print_funcs / sizeof print_funcs[0] };

uint32_t spectest_host_call(uint32_t id, uint64_t *slots, uint32_t nparams, uint32_t nresults,
                            uint8_t *mem, uint64_t mem_size) {
  (void)slots, (void)mem, (void)mem_size;
  return id < NPRINT && nparams == print_funcs[id].nparams && nresults == 0 ? 0 : 1;
}

static uint32_t fail(eng_error *err, uint32_t st, const char *what) {
  char msg[sizeof err->msg];
  err->msg[sizeof err->msg - 1] = 0;
  snprintf(msg, sizeof msg, "spectest: %s: %s", what, err->msg);
  memcpy(err->msg, msg, sizeof msg);
  return st;
}

uint32_t spectest_setup(eng_store *s, bool host_funcs, eng_error *err) {
  memset(err, 0, sizeof *err);
  uint32_t inst;
  uint32_t st = eng_instantiate(s, spectest_wasm, spectest_wasm_len, &inst, err);
  if (st != HL_STATUS_OK) return fail(err, st, "eng_instantiate");
  if (host_funcs) {
    uint32_t ids[NPRINT];
    for (uint32_t i = 0; i < NPRINT; i++) ids[i] = i;
    plat_hosted_set_host_call(spectest_host_call);
    st = eng_bind_host(s, inst, ids, NPRINT, err);
    if (st != HL_STATUS_OK) return fail(err, st, "eng_bind_host");
  }
  st = eng_register(s, inst, "spectest", 8, err);
  if (st != HL_STATUS_OK) return fail(err, st, "eng_register");
  return HL_STATUS_OK;
}
