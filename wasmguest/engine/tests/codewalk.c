// codewalk.c — compiles every function of every module given (decode, scan, validate, compile:
// no instantiation, so modules with imports are compiled too), with fuel off and on, and walks the
// compiled code with eng_op_len (internal.h: word counts from opcodes.h). Fails when an op is
// unknown or never emitted, when the walk does not end exactly at the end of the code, or when a
// branch target is not an instruction boundary.
//   codewalk FILE.wasm...        check; prints totals
//   codewalk -hash FILE.wasm...  also one line per module: status, message, FNV-1a of the code
//                                (compare the output of two engine versions: same compiled code)
// Built with -DCODEWALK_NO_WALK it only hashes (for engine versions without eng_op_len).
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

static unsigned long nops, nfuncs, nbad;
static unsigned long hist[OP_COUNT];

#ifndef CODEWALK_NO_WALK
static int bad(const char *file, uint32_t fi, uint32_t at, const char *what, uint32_t op) {
  fprintf(stderr, "%s: func %u: word %u: %s (op %u)\n", file, fi, at, what, op);
  nbad++;
  return 0;
}

// The first word of these ops is a branch target (an offset into the code).
static bool first_is_target(uint32_t op) {
  if (op == OP_JMP || op == OP_BR_MOVE || op == OP_BR_IF_NZ || op == OP_BR_IF_MOVE ||
      op == OP_BR_UNLESS || op == OP_BRIF_I32_EQZ)
    return true;
  return op >= OP_BRIF_I32_EQ && op <= OP_BRIF_I32_GE_U_IMM;
}

static int walk(const char *file, uint32_t fi, const eng_func *f) {
  uint8_t *start = calloc(f->code_len + 1, 1);
  uint32_t k = 0;
  while (k < f->code_len) {
    uint32_t op = f->code[k];
    uint32_t n = eng_op_len(f->code + k, f->code_len - k);
    if (!n) { free(start); return bad(file, fi, k, "undecodable op", op); }
    start[k] = 1;
    hist[op]++;
    nops++;
    k += n;
  }
  if (k != f->code_len) { free(start); return bad(file, fi, k, "walk overruns the code", 0); }
  for (k = 0; k < f->code_len; k += eng_op_len(f->code + k, f->code_len - k)) {
    uint32_t op = f->code[k];
    if (first_is_target(op) && (f->code[k + 1] >= f->code_len || !start[f->code[k + 1]])) {
      free(start);
      return bad(file, fi, k, "branch target not an instruction", op);
    }
    if (op == OP_BR_TABLE_X) {
      for (uint32_t i = 0; i <= f->code[k + 2]; i++) {
        uint32_t t = f->code[k + 5 + 2 * i];
        if (t >= f->code_len || !start[t]) {
          free(start);
          return bad(file, fi, k, "br_table target not an instruction", op);
        }
      }
    }
  }
  free(start);
  return 1;
}
#endif

int main(int argc, char **argv) {
  static uint8_t buf[1 << 24];
  int hash = 0;
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "-hash")) { hash = 1; continue; }
    FILE *fl = fopen(argv[a], "rb");
    if (!fl) { perror(argv[a]); return 2; }
    size_t n = fread(buf, 1, sizeof buf, fl);
    fclose(fl);
    const char *base = strrchr(argv[a], '/');
    base = base ? base + 1 : argv[a];
    for (int fuel = 0; fuel < 2; fuel++) {
      eng_limits lim = {256, 10000, fuel ? 1000000 : 0, ENG_TIER_COMPILED};
      eng_store *s = eng_store_new(&lim);
      eng_module m;
      eng_error err;
      memset(&err, 0, sizeof err);
      uint64_t h = 1469598103934665603ull;
      uint32_t st = eng_decode(buf, n, &m, &err);
      bool decoded = st == HL_STATUS_OK;
      if (!st) st = eng_scan_module(&m, &err);
      if (!st) st = eng_validate_module(&m, &err);
      if (!st) {
        uint32_t *ids = calloc(m.ntypes + 1, 4);
        for (uint32_t i = 0; i < m.ntypes; i++) ids[i] = i;
        for (uint32_t i = 0; i < m.ncodes && !st; i++) {
          eng_func f;
          memset(&f, 0, sizeof f);
          st = eng_compile_func(s, &m, ids, i, &f, &err);
          if (st) break;
          nfuncs++;
          h = fnv(h, &f.max_stack, 4);
          h = fnv(h, f.code, (size_t)f.code_len * 4);
#ifndef CODEWALK_NO_WALK
          walk(base, i, &f);
#endif
          eng_xfree(f.code);
          eng_xfree(f.handlers);
        }
        free(ids);
      }
      if (hash) printf("%s fuel=%d status=%u msg=\"%s\" code=%016llx\n", base, fuel, st, st ? err.msg : "",
                       (unsigned long long)h);
      if (decoded) eng_module_free(&m);
      eng_store_free(s);
    }
  }
#ifndef CODEWALK_NO_WALK
  unsigned used = 0;
  for (unsigned i = 0; i < OP_COUNT; i++) used += hist[i] != 0;
  fprintf(stderr, "codewalk: %lu functions, %lu ops walked, %u of %u opcodes seen, %lu errors\n", nfuncs,
          nops, used, (unsigned)OP_COUNT, nbad);
#endif
  return nbad ? 1 : 0;
}
