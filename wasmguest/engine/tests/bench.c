// bench.c — hosted micro-benchmark driver: bench FILE.wasm EXPORT [i64 args...]
// Loads a module into a fresh store, calls the named export once (or REPEAT times) and prints
// the results and the wall time. Build: make -f engine_tests.mk bench (see Makefile here).
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../engine.h"
#include "../internal.h"

#define NM(n, ...) #n,
static const char *const op_names[] = {HL_OPCODES(NM, NM, NM, NM, NM, NM, NM, NM, NM, NM)};

static void dump(eng_inst *in) {
  for (uint32_t i = 0; i < in->nown_funcs; i++) {
    eng_func *f = &in->own_funcs[i];
    printf("func %u: nparams %u nlocals %u max_stack %u\n", i, f->nparams, f->nlocals, f->max_stack);
    for (uint32_t k = 0; k < f->code_len; k++) {
      uint32_t w = f->code[k];
      if (w < OP_COUNT) printf("  %4u: %u %s\n", k, w, op_names[w]);
      else printf("  %4u: %u\n", k, w);
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: bench FILE.wasm EXPORT [args...]\n"); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  static uint8_t buf[64 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  eng_limits lim = {65536, 10000, 0};
  eng_store *s = eng_store_new(&lim);
  eng_error err;
  uint32_t inst;
  struct timespec t0, t1, t2;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  uint32_t st = eng_instantiate(s, buf, n, &inst, &err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (st) { fprintf(stderr, "instantiate: %u %s\n", st, err.msg); return 1; }
  eng_inst *in = s->insts[inst];
  if (getenv("DUMP")) dump(in);
  uint32_t idx = UINT32_MAX;
  for (uint32_t i = 0; i < in->mod->nexports; i++)
    if (in->mod->exports[i].name_len == strlen(argv[2]) &&
        memcmp(in->mod->exports[i].name, argv[2], strlen(argv[2])) == 0) idx = i;
  if (idx == UINT32_MAX) { fprintf(stderr, "no export %s\n", argv[2]); return 1; }
  uint64_t params[64], results[64];
  uint32_t np = 0, nr = 0;
  for (int i = 3; i < argc && np < 64; i++) params[np++] = strtoull(argv[i], NULL, 0);
  int reps = getenv("REPEAT") ? atoi(getenv("REPEAT")) : 1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  for (int r = 0; r < reps; r++) {
    st = eng_call(s, inst, idx, params, np, results, &nr, &err);
    if (st) { fprintf(stderr, "call: %u %s\n", st, err.msg); return 1; }
  }
  clock_gettime(CLOCK_MONOTONIC, &t2);
  double ms = (t2.tv_sec - t1.tv_sec) * 1e3 + (t2.tv_nsec - t1.tv_nsec) / 1e6;
  printf("%s %s: ", argv[1], argv[2]);
  for (uint32_t i = 0; i < nr; i++) printf("%#llx ", (unsigned long long)results[i]);
  printf(" %.1f ms/call (instantiate %.1f ms)\n", ms / reps,
         (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
  eng_store_free(s);
  return 0;
}
