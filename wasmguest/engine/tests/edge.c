// edge.c — hosted edge-case tests of the engine (limits, fuel, host boundary, slot compiler).
// Build and run: make -C wasmguest/engine/tests edge   (ASan+UBSan)
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

static int failures;
#define CHECK(cond, ...)                                                                        \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      failures++;                                                                               \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                                               \
      printf(__VA_ARGS__);                                                                      \
      printf("\n");                                                                             \
    }                                                                                           \
  } while (0)

static uint8_t *readf(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  static uint8_t buf[1 << 20];
  *n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return buf;
}

static uint32_t exp_idx(eng_store *s, uint32_t inst, const char *name) {
  const eng_export *e = eng_find_export(s->insts[inst]->mod, (const uint8_t *)name, (uint32_t)strlen(name));
  return e ? (uint32_t)(e - s->insts[inst]->mod->exports) : UINT32_MAX;
}

static uint32_t call(eng_store *s, uint32_t inst, const char *name, const uint64_t *p, uint32_t np,
                     uint64_t *r, uint32_t *nr, eng_error *err) {
  return eng_call(s, inst, exp_idx(s, inst, name), p, np, r, nr, err);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "wat";
  char path[512];
  size_t n;
  uint8_t *b;
  eng_error err;
  uint32_t inst, st, nr;
  uint64_t r[HL_MAX_VALUES], p[4];

  // fuel, call depth, memory/table growth, host boundary
  {
    eng_limits lim = {10, 100, 100000};
    eng_store *s = eng_store_new(&lim);
    snprintf(path, sizeof path, "%s/edge.wasm", dir);
    b = readf(path, &n);
    st = eng_instantiate(s, b, n, &inst, &err);
    CHECK(st == HL_STATUS_OK, "instantiate edge: %u %s", st, err.msg);
    st = call(s, inst, "spin", NULL, 0, r, &nr, &err);
    CHECK(st == HL_STATUS_TRAP && err.trap == HL_TRAP_HOST, "spin: %u %u %s", st, err.trap, err.msg);
    p[0] = 50;
    st = call(s, inst, "rec", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 50, "rec 50: %u %s", st, err.msg);
    p[0] = 1000;
    st = call(s, inst, "rec", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_TRAP && err.trap == HL_TRAP_CALL_STACK_EXHAUSTED, "rec 1000: %u %s", st, err.msg);
    p[0] = 9;
    st = call(s, inst, "grow", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 1, "grow 9: %u %llu", st, (unsigned long long)r[0]);
    p[0] = 1;
    st = call(s, inst, "grow", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 0xffffffffu, "grow past cap: %u %llx", st, (unsigned long long)r[0]);
    p[0] = 0xffffffffu;
    st = call(s, inst, "tgrow", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 0xffffffffu, "tgrow huge: %u %llx", st, (unsigned long long)r[0]);
    p[0] = 1000;
    st = call(s, inst, "tgrow", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 2, "tgrow 1000: %u %llx", st, (unsigned long long)r[0]);
    st = call(s, inst, "ret_ref", NULL, 0, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] != 0, "ret_ref");
    p[0] = r[0];
    st = call(s, inst, "id_ref", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == p[0], "id_ref valid");
    p[0] = 0x12345678;
    st = call(s, inst, "id_ref", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_BAD_REQUEST, "id_ref forged: %u", st);
    st = call(s, inst, "rec", p, 0, r, &nr, &err);
    CHECK(st == HL_STATUS_BAD_REQUEST, "wrong arity: %u", st);
    st = eng_call(s, inst, 999, p, 0, r, &nr, &err);
    CHECK(st == HL_STATUS_BAD_REQUEST, "bad export: %u", st);
    st = eng_call(s, 77, 0, p, 0, r, &nr, &err);
    CHECK(st == HL_STATUS_BAD_REQUEST, "bad instance: %u", st);
    st = call(s, inst, "many", NULL, 0, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && nr == 10 && r[0] == 1 && r[9] == 10, "many");
    p[0] = 0xffffffff00000005ull;
    st = call(s, inst, "mask", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 5, "mask: %llx", (unsigned long long)r[0]);
    p[0] = 3;
    st = call(s, inst, "tee", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 108, "tee: %llu", (unsigned long long)r[0]);
    p[0] = 3; p[1] = 4;
    st = call(s, inst, "swap", p, 2, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 4 && r[1] == 3, "swap");
    p[0] = 10;
    st = call(s, inst, "hazard", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 3, "hazard: %llu", (unsigned long long)r[0]);
    eng_store_free(s);
  }
  // memory larger than the engine cap
  {
    eng_limits lim = {1, 100, 0};
    eng_store *s = eng_store_new(&lim);
    snprintf(path, sizeof path, "%s/edge.wasm", dir);
    b = readf(path, &n);
    st = eng_instantiate(s, b, n, &inst, &err);
    CHECK(st == HL_STATUS_OK, "instantiate with 1 page cap: %u %s", st, err.msg);
    p[0] = 1;
    st = call(s, inst, "grow", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 0xffffffffu, "grow at cap 1");
    eng_store_free(s);
  }
  // nesting beyond the limit, within the limit, huge frames
  {
    eng_limits lim = {10, 1000000, 0};
    eng_store *s = eng_store_new(&lim);
    snprintf(path, sizeof path, "%s/nest.wasm", dir);
    b = readf(path, &n);
    st = eng_instantiate(s, b, n, &inst, &err);
    CHECK(st == HL_STATUS_LIMIT, "nest 70000: %u %s", st, err.msg);
    snprintf(path, sizeof path, "%s/nest_ok.wasm", dir);
    b = readf(path, &n);
    st = eng_instantiate(s, b, n, &inst, &err);
    CHECK(st == HL_STATUS_OK, "nest 60000: %u %s", st, err.msg);
    st = eng_call(s, inst, 0, NULL, 0, r, &nr, &err);
    CHECK(st == HL_STATUS_OK, "run nest 60000: %u %s", st, err.msg);
    snprintf(path, sizeof path, "%s/biglocals.wasm", dir);
    b = readf(path, &n);
    st = eng_instantiate(s, b, n, &inst, &err);
    CHECK(st == HL_STATUS_OK, "biglocals: %u %s", st, err.msg);
    st = eng_call(s, inst, 0, NULL, 0, r, &nr, &err);
    CHECK(st == HL_STATUS_TRAP && err.trap == HL_TRAP_CALL_STACK_EXHAUSTED, "biglocals recursion: %u %s", st, err.msg);
    eng_store_free(s);
  }
  // garbage and truncations of a valid module never crash
  {
    eng_limits lim = {10, 100, 1000};
    eng_store *s = eng_store_new(&lim);
    snprintf(path, sizeof path, "%s/edge.wasm", dir);
    b = readf(path, &n);
    static uint8_t copy[1 << 16];
    for (size_t k = 0; k < n; k++) {
      memcpy(copy, b, n);
      st = eng_instantiate(s, copy, k, &inst, &err); // truncated
      CHECK(st != HL_STATUS_OK || k == n, "truncated at %zu accepted", k);
      for (int bit = 0; bit < 8; bit++) {
        memcpy(copy, b, n);
        copy[k] ^= (uint8_t)(1u << bit);
        st = eng_instantiate(s, copy, n, &inst, &err);
        if (st == HL_STATUS_OK)
          for (uint32_t e = 0; e < s->insts[inst]->mod->nexports; e++) {
            uint64_t zp[HL_MAX_VALUES] = {0};
            eng_call(s, inst, e, zp, 1, r, &nr, &err);
            eng_call(s, inst, e, zp, 0, r, &nr, &err);
            eng_call(s, inst, e, zp, 2, r, &nr, &err);
          }
      }
    }
    eng_store_free(s);
  }
  printf("%s\n", failures ? "edge: FAILED" : "edge: ok");
  return failures != 0;
}
