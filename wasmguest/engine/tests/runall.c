// runall.c — hosted differential-testing helper: for every module given, instantiate it (no
// imports) and call every exported function with zero arguments; print one line per call:
//   FILE "NAME" ok RESULTS...   or   FILE "NAME" trap
// NaN results print as "nan", references as "ref"/"null" (NaN payloads and handles are not
// comparable across engines). Pair it with an engine that prints the same format.
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../jit.h"

// RUNALL_TIER=interp|mixed picks the engine tier (default: compiled), for tier differential runs;
// RUNALL_CPU_MASK=N sets eng_jit_cpu_mask (7: the compile tier's SIMD templates SSE2 only).
static uint32_t tier_from_env(void) {
  const char *t = getenv("RUNALL_TIER");
  if (t && strcmp(t, "interp") == 0) return ENG_TIER_INTERP;
  if (t && strcmp(t, "mixed") == 0) return ENG_TIER_MIXED;
  return ENG_TIER_COMPILED;
}

int main(int argc, char **argv) {
  static uint8_t buf[1 << 22];
  if (getenv("RUNALL_CPU_MASK")) eng_jit_cpu_mask = (uint32_t)strtoul(getenv("RUNALL_CPU_MASK"), NULL, 0);
  for (int a = 1; a < argc; a++) {
    FILE *f = fopen(argv[a], "rb");
    if (!f) continue;
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    eng_limits lim = {256, 10000, 20000000, tier_from_env()};
    eng_store *s = eng_store_new(&lim);
    eng_error err;
    uint32_t inst;
    uint32_t st = eng_instantiate(s, buf, n, &inst, &err);
    if (st) {
      printf("%s %s\n", argv[a], st == HL_STATUS_TRAP ? "instantiate-error" : st == HL_STATUS_UNLINKABLE ? "has-imports" : "compile-error");
      eng_store_free(s);
      continue;
    }
    eng_module *m = s->insts[inst]->mod;
    // exports in name order (byte-wise), like the reference driver
    uint32_t *ord = malloc(sizeof(uint32_t) * (m->nexports + 1));
    for (uint32_t e = 0; e < m->nexports; e++) ord[e] = e;
    for (uint32_t i = 1; i < m->nexports; i++)
      for (uint32_t j = i; j > 0; j--) {
        const eng_export *x = &m->exports[ord[j - 1]], *y = &m->exports[ord[j]];
        uint32_t l = x->name_len < y->name_len ? x->name_len : y->name_len;
        int c = memcmp(x->name, y->name, l);
        if (c < 0 || (c == 0 && x->name_len <= y->name_len)) break;
        uint32_t t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t;
      }
    for (uint32_t oi = 0; oi < m->nexports; oi++) {
      uint32_t e = ord[oi];
      if (m->exports[e].kind != EXT_FUNC) continue;
      eng_func *fn = s->insts[inst]->funcs[m->exports[e].idx];
      uint64_t p[HL_MAX_VALUES] = {0}, r[HL_MAX_VALUES];
      uint32_t nr;
      printf("%s \"%.*s\" ", argv[a], (int)m->exports[e].name_len, (const char *)m->exports[e].name);
      st = eng_call(s, inst, e, p, fn->nparams, r, &nr, &err); // slots (v128: two)
      if (st == HL_STATUS_TRAP && err.trap == HL_TRAP_HOST) { printf("fuel\n"); continue; }
      if (st) { printf("trap\n"); continue; }
      printf("ok");
      for (uint32_t i = 0, ti = 0; i < nr; i++, ti++) {
        uint8_t t = vt_kind(fn->type->types[fn->type->nparams + ti]);
        if (t == VT_V128) { printf(" %llx", (unsigned long long)r[i++]); } // low half; high below
        if (t == VT_F32 && (r[i] & 0x7fffffffu) > 0x7f800000u) printf(" nan");
        else if (t == VT_F64 && (r[i] & 0x7fffffffffffffffull) > 0x7ff0000000000000ull) printf(" nan");
        else if (t == VT_FUNCREF || t == VT_EXTERNREF) printf(" %s", r[i] ? "ref" : "null");
        else printf(" %llx", (unsigned long long)r[i]);
      }
      printf("\n");
    }
    free(ord);
    eng_store_free(s);
  }
  return 0;
}
