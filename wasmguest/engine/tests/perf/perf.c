// perf.c — hosted driver for profiling the interpreter on the bench/ kernels (no sanitizers).
//   perf KERNEL [SCALE]   KERNEL = fib|sha256|nbody|qsort|gemm; SCALE divides the size used by
//   bench/bench_test.go (default 1 = the benchmark's own arguments; e.g. 8 for callgrind runs).
// Prints the result and the wall time of the call (instantiation excluded).
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../engine.h"
#include "../../internal.h"

#define NM(n, ...) #n,
#define NMI(n, ...) #n "_IMM",
#define NMB(n, ...) "BRIF_" #n,
#define NMBI(n, ...) "BRIF_" #n "_IMM",
#define NMX(n, ...) #n "_X",
#define NMFB(o, i, ...) #o "__" #i,
#define NMFL(o, l, ...) #o "__" #l, #o "__" #l "_X",
static const char *const op_names[] = {HL_OPCODES(NM, NM, NM, NM, NM, NM, NM, NM, NM, NM)
    HL_OPCODES(E_NONE, NMI, E_NONE, E_NONE, E_NONE, E_NONE, E_NONE, E_NONE, E_NONE, E_NONE)
    HL_FUSED_CMP(NMB) HL_FUSED_CMP(NMBI)
    HL_OPCODES(E_NONE, E_NONE, E_NONE, E_NONE, NMX, E_NONE, E_NONE, E_NONE, E_NONE, E_NONE)
    HL_FUSED_BIN(NMFB) HL_FUSED_LD(NMFL) "COPY2"};

#define LN1(n, ...) [OP_##n] = 2,
#define LN2(n, ...) [OP_##n] = 3,
#define LZ(...)
#define LIMM(n, b, i1, i2, ...) [OP_##n##_IMM] = (#i2[0] == 'L' || #i2[0] == 'D') ? 4 : 3,
#define LBR(n, ...) [OP_BRIF_##n] = 3,
#define LBRI(n, ...) [OP_BRIF_##n##_IMM] = 3,
#define LXX(n, ...) [OP_##n##_X] = 4,
#define LFB(o, i, ...) [OP_##o##__##i] = 4,
#define LFL(o, l, ...) [OP_##o##__##l] = 4, [OP_##o##__##l##_X] = 5,
static uint8_t op_len[OP_COUNT] = {HL_OPCODES(LN1, LN2, LN1, LN2, LN2, LN2, LZ, LN1, LZ, LZ)
    HL_OPCODES(LZ, LIMM, LZ, LZ, LZ, LZ, LZ, LZ, LZ, LZ) HL_FUSED_CMP(LBR) HL_FUSED_CMP(LBRI) HL_OPCODES(LZ, LZ, LZ, LZ, LXX, LZ, LZ, LZ, LZ, LZ) HL_FUSED_BIN(LFB) HL_FUSED_LD(LFL) [OP_BRIF_I32_EQZ] = 2, [OP_COPY2] = 4};

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
  if (argc < 2) { fprintf(stderr, "usage: perf KERNEL [SCALE] [DIR]\n"); return 2; }
  const char *k = argv[1];
  unsigned scale = argc > 2 ? (unsigned)atoi(argv[2]) : 1;
  const char *dir = argc > 3 ? argv[3] : PERF_BENCH_DIR;
  if (!scale) scale = 1;
  uint64_t params[2] = {0, 0};
  uint32_t np = 1;
  if (!strcmp(k, "fib")) params[0] = scale == 1 ? 30 : 30 - 2 * (scale > 4 ? 2 : 1);
  else if (!strcmp(k, "sha256")) params[0] = 16 / scale ? 16 / scale : 1;
  else if (!strcmp(k, "nbody")) params[0] = 200000 / scale;
  else if (!strcmp(k, "qsort")) { params[0] = 1000000 / scale; params[1] = 1; np = 2; }
  else if (!strcmp(k, "gemm")) params[0] = scale == 1 ? 256 : 128;
  else { fprintf(stderr, "unknown kernel %s\n", k); return 2; }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.wasm", dir, k);
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); return 1; }
  static uint8_t buf[16 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  eng_limits lim = {65536, 10000, 0};
  eng_store *s = eng_store_new(&lim);
  eng_error err;
  uint32_t inst;
  uint32_t st = eng_instantiate(s, buf, n, &inst, &err);
  if (st) { fprintf(stderr, "instantiate: %u %s\n", st, err.msg); return 1; }
  eng_inst *in = s->insts[inst];
  if (getenv("DUMP")) dump(in);
  uint32_t idx = UINT32_MAX;
  for (uint32_t i = 0; i < in->mod->nexports; i++)
    if (in->mod->exports[i].name_len == 3 && memcmp(in->mod->exports[i].name, "run", 3) == 0) idx = i;
  if (idx == UINT32_MAX) { fprintf(stderr, "no export run\n"); return 1; }
  uint64_t results[4];
  uint32_t nr = 0;
  struct timespec t1, t2;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  st = eng_call(s, inst, idx, params, np, results, &nr, &err);
  clock_gettime(CLOCK_MONOTONIC, &t2);
  if (st) { fprintf(stderr, "call: %u %s\n", st, err.msg); return 1; }
  double ms = (double)(t2.tv_sec - t1.tv_sec) * 1e3 + (double)(t2.tv_nsec - t1.tv_nsec) / 1e6;
  printf("%s(%llu): %#llx %.1f ms\n", k, (unsigned long long)params[0], (unsigned long long)results[0], ms);
  eng_store_free(s);
  return 0;
}
