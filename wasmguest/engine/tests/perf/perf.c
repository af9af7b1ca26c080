// perf.c — hosted driver for profiling the interpreter on the bench/ kernels (no sanitizers).
//   perf KERNEL [SCALE]   KERNEL = fib|sha256|nbody|qsort|gemm|simd; SCALE divides the size used by
//   bench/bench_test.go (default 1 = the benchmark's own arguments; e.g. 8 for callgrind runs).
//   perf load FILE        instantiates FILE and prints the time it took (parse, validate,
//   compile, instantiate: what module load costs in the guest), nothing called.
// Prints the result and the wall time of the call (instantiation excluded). TIER_INTERP=1: the
// interpreter; DUMP=1: the slot code; JITDUMP=FILE: the instance's machine code, for
// objdump -D -b binary -mi386:x86-64 FILE.
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../engine.h"
#include "../../internal.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define NM(n, ...) #n,
#define NMI(n, ...) #n "_IMM",
#define NMB(n) "BRIF_" #n,
#define NMBI(n) "BRIF_" #n "_IMM",
#define NMX(n, ...) #n "_X",
#define NMFB(o, i, ty, imm, comm) STR(HL_FB_ID(, o, i, imm)),
#define NMFL(o, l, ...) #o "__" #l, #o "__" #l "_X",
#define NMCP() "COPY2"
static const char *const op_names[OP_COUNT] = {HL_ALL_OPS(NM, NMI, NMB, NMBI, NMX, NMFB, NMFL, NMCP)};

// Every instruction's length comes from the table (eng_op_len: opcodes.h word counts).
static void dump(eng_inst *in) {
  for (uint32_t i = 0; i < in->nown_funcs; i++) {
    eng_func *f = &in->own_funcs[i];
    printf("func %u: nparams %u nlocals %u max_stack %u\n", i, f->nparams, f->nlocals, f->max_stack);
    for (uint32_t k = 0; k < f->code_len;) {
      uint32_t w = f->code[k], n = eng_op_len(f->code + k, f->code_len - k);
      printf("  %5u: %-16s", k, w < OP_COUNT ? op_names[w] : "???");
      for (uint32_t j = 1; j < n; j++) printf(" %u", f->code[k + j]);
      printf("\n");
      if (!n) { printf("  (undecodable)\n"); break; }
      k += n;
    }
  }
}

static double ms_since(const struct timespec *t1) {
  struct timespec t2;
  clock_gettime(CLOCK_MONOTONIC, &t2);
  return (double)(t2.tv_sec - t1->tv_sec) * 1e3 + (double)(t2.tv_nsec - t1->tv_nsec) / 1e6;
}

static int load_only(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); return 1; }
  static uint8_t buf[64 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  eng_limits lim = {65536, 10000, 0, getenv("TIER_INTERP") ? ENG_TIER_INTERP : ENG_TIER_COMPILED};
  eng_store *s = eng_store_new(&lim);
  if (!s) return 1;
  eng_error err;
  uint32_t inst;
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  uint32_t st = eng_instantiate(s, buf, n, &inst, &err);
  double ms = ms_since(&t1);
  if (st) { fprintf(stderr, "instantiate: %u %s\n", st, err.msg); return 1; }
  printf("load %s (%zu bytes): %.1f ms, code %zu bytes\n", path, n, ms, (size_t)s->insts[inst]->jit_bytes);
  eng_store_free(s);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: perf KERNEL [SCALE] [DIR]\n"); return 2; }
  const char *k = argv[1];
  if (!strcmp(k, "load")) return argc == 3 ? load_only(argv[2]) : 2;
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
  else if (!strcmp(k, "simd")) params[0] = 500 / scale;
  else { fprintf(stderr, "unknown kernel %s\n", k); return 2; }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.wasm", dir, k);
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); return 1; }
  static uint8_t buf[16 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  eng_limits lim = {65536, 10000, 0, getenv("TIER_INTERP") ? ENG_TIER_INTERP : ENG_TIER_COMPILED};
  eng_store *s = eng_store_new(&lim);
  eng_error err;
  uint32_t inst;
  uint32_t st = eng_instantiate(s, buf, n, &inst, &err);
  if (st) { fprintf(stderr, "instantiate: %u %s\n", st, err.msg); return 1; }
  eng_inst *in = s->insts[inst];
  if (getenv("DUMP")) dump(in);
  if (getenv("JITDUMP") && in->jit_code) { // the machine code: objdump -D -b binary -mi386:x86-64 FILE
    FILE *o = fopen(getenv("JITDUMP"), "wb");
    if (!o || fwrite(in->jit_code, 1, in->jit_bytes, o) != in->jit_bytes) { perror("JITDUMP"); return 1; }
    fclose(o);
  }
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
