// fuzz_tiers.c — libFuzzer target: the interpreter and the compile tier must agree. The input
// is instantiated in two stores, one per tier (ENG_TIER_INTERP, ENG_TIER_COMPILED; same limits,
// same fuel), then every exported function is called in export order, first with all-zero
// arguments, then with arguments taken from the input's last bytes, and every exported global
// is read after each call. Statuses, trap codes, result counts, results and globals must be
// equal bit for bit, except NaNs: Wasm leaves a NaN's sign and payload nondeterministic, so two
// 32- or 64-bit lanes that are both NaNs match; and references, opaque handles of each store,
// which must agree on being null. Memory contents are not compared (a stored NaN
// may legitimately differ); they reach the comparison through later loads.
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/engine.h"
#include "fuzz_common.h"
#include "wasm_info.h"

static int f32_nan(uint32_t b) { return (b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu) != 0; }
static int f64_nan(uint64_t b) {
  return (b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0xfffffffffffffull) != 0;
}

// Two slots agree if equal, or both NaN as f64, or lane by lane as f32 (equal or both NaN).
static int slots_agree(uint64_t a, uint64_t b) {
  if (a == b || (f64_nan(a) && f64_nan(b))) return 1;
  for (int sh = 0; sh < 64; sh += 32) {
    uint32_t x = (uint32_t)(a >> sh), y = (uint32_t)(b >> sh);
    if (x != y && !(f32_nan(x) && f32_nan(y))) return 0;
  }
  return 1;
}

typedef struct {
  eng_store *s;
  uint32_t inst, st;
  eng_error err;
} side;

static void open_side(side *d, uint32_t tier, const uint8_t *data, size_t size) {
  eng_limits limits = FUZZ_LIMITS;
  limits.tier = tier;
  d->s = eng_store_new(&limits);
  if (!d->s) abort(); // hosted: plenty of memory
  fuzz_add_spectest(d->s);
  memset(&d->err, 0, sizeof d->err);
  d->st = eng_instantiate(d->s, data, size, &d->inst, &d->err);
  fuzz_check_status(d->st, &d->err);
}

static void differ(const char *what, uint32_t export_index, const side *a, const side *b) {
  fprintf(stderr, "fuzz_tiers: %s at export %u: interp status %u trap %u (%s), compiled status %u trap %u (%s)\n",
          what, export_index, a->st, a->err.trap, a->err.msg, b->st, b->err.trap, b->err.msg);
  abort();
}

static void compare_globals(const wasm_info *info, side *a, side *b, uint32_t after) {
  for (uint32_t i = 0; i < info->n; i++) {
    if (info->exports[i].kind != WASM_EXTERN_GLOBAL) continue;
    uint64_t x[2] = {0, 0}, y[2] = {0, 0};
    uint8_t tx = 0, ty = 0;
    uint32_t sx = eng_global_get(a->s, a->inst, i, x, &tx, &a->err);
    uint32_t sy = eng_global_get(b->s, b->inst, i, y, &ty, &b->err);
    bool num = tx == ENG_I32 || tx == ENG_I64 || tx == ENG_F32 || tx == ENG_F64 || tx == ENG_V128;
    if (sx != sy || tx != ty || (num ? !slots_agree(x[0], y[0]) || !slots_agree(x[1], y[1]) : (x[0] == 0) != (y[0] == 0)))
      differ("global differs", after, a, b);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  side a, b;
  open_side(&a, ENG_TIER_INTERP, data, size);
  open_side(&b, ENG_TIER_COMPILED, data, size);
  if (a.st != b.st || (a.st == HL_STATUS_TRAP && a.err.trap != b.err.trap))
    differ("instantiation differs", 0, &a, &b);
  wasm_info info;
  if (a.st == HL_STATUS_OK && wasm_info_read(data, size, &info)) {
    uint64_t params[2][HL_MAX_VALUES] = {{0}};
    for (uint32_t k = 0; k < HL_MAX_VALUES; k++) // the input's tail, 8 bytes a slot, wrapping
      for (uint32_t j = 0; j < 8 && size > 0; j++)
        params[1][k] |= (uint64_t)data[size - 1 - ((k * 8 + j) % size)] << (8 * j);
    for (int round = 0; round < 2; round++)
      for (uint32_t i = 0; i < info.n; i++) {
        const wasm_export *e = &info.exports[i];
        if (e->kind != WASM_EXTERN_FUNC || e->param_slots < 0 || e->param_slots > (int)HL_MAX_VALUES) continue;
        uint64_t ra[HL_MAX_VALUES], rb[HL_MAX_VALUES];
        uint32_t na = 0, nb = 0;
        memset(&a.err, 0, sizeof a.err);
        memset(&b.err, 0, sizeof b.err);
        a.st = eng_call(a.s, a.inst, i, params[round], (uint32_t)e->param_slots, ra, &na, &a.err);
        b.st = eng_call(b.s, b.inst, i, params[round], (uint32_t)e->param_slots, rb, &nb, &b.err);
        fuzz_check_status(a.st, &a.err);
        fuzz_check_status(b.st, &b.err);
        if (a.st != b.st || (a.st == HL_STATUS_TRAP && a.err.trap != b.err.trap)) differ("call status differs", i, &a, &b);
        if (a.st == HL_STATUS_OK) {
          if (na != nb) differ("result count differs", i, &a, &b);
          for (uint32_t k = 0; k < na; k++) {
            bool ref = k < 64 && (e->result_refs >> k & 1);
            if (ref ? (ra[k] == 0) != (rb[k] == 0) : !slots_agree(ra[k], rb[k]))
              differ("result differs", i, &a, &b);
          }
        }
        compare_globals(&info, &a, &b, i);
      }
    wasm_info_free(&info);
  }
  eng_store_free(a.s);
  eng_store_free(b.s);
  return 0;
}
