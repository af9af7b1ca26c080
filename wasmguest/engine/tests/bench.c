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
#define NMI(n, ...) #n "_IMM",
#define NMB(n, ...) "BRIF_" #n,
#define NMBI(n, ...) "BRIF_" #n "_IMM",
#define NMX(n, ...) #n "_X",
static const char *const op_names[] = {HL_OPCODES(NM, NM, NM, NM, NM, NM, NM, NM, NM, NM)
    HL_OPCODES(E_NONE, NMI, E_NONE, E_NONE, E_NONE, E_NONE, E_NONE, E_NONE, E_NONE, E_NONE)
    HL_FUSED_CMP(NMB) HL_FUSED_CMP(NMBI)
    HL_OPCODES(E_NONE, E_NONE, E_NONE, E_NONE, NMX, E_NONE, E_NONE, E_NONE, E_NONE, E_NONE)};

#define LN1(n, ...) [OP_##n] = 2,
#define LN2(n, ...) [OP_##n] = 3,
#define LZ(...)
#define LIMM(n, b, i1, i2, ...) [OP_##n##_IMM] = (#i2[0] == 'L' || #i2[0] == 'D') ? 4 : 3,
#define LBR(n, ...) [OP_BRIF_##n] = 3,
#define LBRI(n, ...) [OP_BRIF_##n##_IMM] = 3,
#define LXX(n, ...) [OP_##n##_X] = 4,
static uint8_t op_len[OP_COUNT] = {HL_OPCODES(LN1, LN2, LN1, LN2, LN2, LN2, LZ, LN1, LZ, LZ)
    HL_OPCODES(LZ, LIMM, LZ, LZ, LZ, LZ, LZ, LZ, LZ, LZ) HL_FUSED_CMP(LBR) HL_FUSED_CMP(LBRI) HL_OPCODES(LZ, LZ, LZ, LZ, LXX, LZ, LZ, LZ, LZ, LZ) [OP_BRIF_I32_EQZ] = 2};

static void init_len(void) {
  static const struct { int op, n; } sp[] = {
      {OP_UNREACHABLE, 0}, {OP_CALL, 2}, {OP_CALL_INDIRECT, 4}, {OP_SELECT, 4}, {OP_GLOBAL_GET, 2},
      {OP_GLOBAL_SET, 2}, {OP_TABLE_GET, 3}, {OP_TABLE_SET, 3}, {OP_MEMORY_SIZE, 1},
      {OP_MEMORY_GROW, 2}, {OP_I32_CONST, 2}, {OP_F32_CONST, 2}, {OP_I64_CONST, 3}, {OP_F64_CONST, 3},
      {OP_REF_NULL, 1}, {OP_REF_IS_NULL, 2}, {OP_REF_FUNC, 2}, {OP_MEMORY_INIT, 4}, {OP_DATA_DROP, 1},
      {OP_MEMORY_COPY, 3}, {OP_MEMORY_FILL, 3}, {OP_TABLE_INIT, 5}, {OP_ELEM_DROP, 1},
      {OP_TABLE_COPY, 5}, {OP_TABLE_GROW, 4}, {OP_TABLE_SIZE, 2}, {OP_TABLE_FILL, 4}, {OP_COPY, 2},
      {OP_JMP, 1}, {OP_BR_MOVE, 4}, {OP_BR_IF_NZ, 2}, {OP_BR_IF_MOVE, 5}, {OP_BR_UNLESS, 2},
      {OP_BR_TABLE_X, 4}, {OP_RETURN_X, 2}, {OP_FUEL, 1}};
  for (unsigned i = 0; i < sizeof sp / sizeof sp[0]; i++) op_len[sp[i].op] = (uint8_t)sp[i].n;
}

static void dump(eng_inst *in) {
  init_len();
  for (uint32_t i = 0; i < in->nown_funcs; i++) {
    eng_func *f = &in->own_funcs[i];
    printf("func %u: nparams %u nlocals %u max_stack %u\n", i, f->nparams, f->nlocals, f->max_stack);
    for (uint32_t k = 0; k < f->code_len;) {
      uint32_t w = f->code[k];
      printf("  %5u: %-16s", k, w < OP_COUNT ? op_names[w] : "???");
      uint32_t n = w < OP_COUNT ? op_len[w] : 0;
      if (w == OP_BR_TABLE_X) n += 2 * (f->code[k + 2] + 1);
      for (uint32_t j = 1; j <= n && k + j < f->code_len; j++) printf(" %u", f->code[k + j]);
      printf("\n");
      k += 1 + n;
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
