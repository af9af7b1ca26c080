// edge.c — hosted edge-case tests of the engine (limits, fuel, host boundary, slot compiler).
// Build and run: make -C wasmguest/engine/tests edge   (ASan+UBSan)
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../../hosted/plat_hosted.h"

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

// A module "(func (export "f") BODY)" with one function of type [] -> [], built in memory.
static size_t leb(uint8_t *o, uint64_t v) {
  size_t n = 0;
  do { uint8_t c = v & 0x7f; v >>= 7; o[n++] = (uint8_t)(c | (v ? 0x80 : 0)); } while (v);
  return n;
}
static uint8_t *build(const uint8_t *locals, size_t nl, const uint8_t *body, size_t nb, size_t *len) {
  size_t cap = nl + nb + 64;
  uint8_t *m = malloc(cap), *p = m;
  static const uint8_t head[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
                                 7, 5, 1, 1, 'f', 0, 0};
  memcpy(p, head, sizeof head); p += sizeof head;
  size_t code = nl + nb;
  uint8_t tmp[16];
  size_t a = leb(tmp, code), sec = 1 + a + code;
  *p++ = 10; p += leb(p, sec); *p++ = 1; p += leb(p, code);
  memcpy(p, locals, nl); p += nl;
  memcpy(p, body, nb); p += nb;
  *len = (size_t)(p - m);
  return m;
}
static uint8_t *nested(uint32_t depth, size_t *len) {
  size_t nb = (size_t)depth * 3 + 1;
  uint8_t *body = malloc(nb);
  for (uint32_t i = 0; i < depth; i++) { body[2 * i] = 0x02; body[2 * i + 1] = 0x40; }
  memset(body + 2 * (size_t)depth, 0x0b, depth + 1);
  uint8_t *m = build((const uint8_t *)"\0", 1, body, nb, len);
  free(body);
  return m;
}

static uint32_t exp_idx(eng_store *s, uint32_t inst, const char *name) {
  const eng_export *e = eng_find_export(s->insts[inst]->mod, (const uint8_t *)name, (uint32_t)strlen(name));
  return e ? (uint32_t)(e - s->insts[inst]->mod->exports) : UINT32_MAX;
}

static uint32_t call(eng_store *s, uint32_t inst, const char *name, const uint64_t *p, uint32_t np,
                     uint64_t *r, uint32_t *nr, eng_error *err) {
  return eng_call(s, inst, exp_idx(s, inst, name), p, np, r, nr, err);
}

// The tiers the per-tier blocks below run on, in this order.
static const uint32_t tiers[] = {ENG_TIER_COMPILED, ENG_TIER_MIXED, ENG_TIER_INTERP};

// A store with limits lim and dir/file instantiated in it (its instance in *inst), or NULL
// after a failed check.
static eng_store *store_with(const char *dir, const char *file, eng_limits lim, uint32_t *inst) {
  char path[512];
  size_t n;
  eng_error err;
  snprintf(path, sizeof path, "%s/%s", dir, file);
  const uint8_t *b = readf(path, &n);
  eng_store *s = eng_store_new(&lim);
  uint32_t st = eng_instantiate(s, b, n, inst, &err);
  CHECK(st == HL_STATUS_OK, "instantiate %s: %u %s", file, st, err.msg);
  if (st != HL_STATUS_OK) {
    eng_store_free(s);
    return NULL;
  }
  return s;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "wat";
  char path[512];
  size_t n;
  uint8_t *b;
  eng_error err;
  uint32_t inst, st, nr;
  uint64_t r[HL_MAX_VALUES], p[4];

  // WebAssembly 3.0: refused proposals name the feature (HL_STATUS_UNSUPPORTED); bad exception
  // handling and typed-reference code is malformed or invalid; throw_ref of null traps.
  {
    static const struct {
      const char *what, *locals, *body;
      size_t nl, nb;
      uint32_t status;
      const char *msg;
    } cases[] = {
        {"ref.eq without operands", "\0", "\xd3\x0b", 1, 2, HL_STATUS_INVALID, "type mismatch"},
        {"structref local", "\x01\x01\x64\x6b", "\x20\x00\x1a\x0b", 4, 4, HL_STATUS_INVALID,
         "uninitialized local"},
        {"i31.get_u of an i32", "\0", "\x41\x00\xfb\x1e\x1a\x0b", 1, 6, HL_STATUS_INVALID, "type mismatch"},
        {"ref.test across hierarchies", "\0", "\xd0\x70\xfb\x14\x6c\x1a\x0b", 1, 7, HL_STATUS_INVALID, "type mismatch"},
        // typed function references: validation
        {"call_ref unknown type", "\0", "\x14\x05\x0b", 1, 3, HL_STATUS_INVALID, "unknown type"},
        {"ref local unknown type", "\x01\x01\x63\x07", "\x0b", 4, 1, HL_STATUS_INVALID, "unknown type"},
        {"uninitialized local", "\x01\x01\x64\x70", "\x20\x00\x1a\x0b", 4, 4, HL_STATUS_INVALID,
         "uninitialized local"},
        {"ref.as_non_null i32", "\0", "\x41\x00\xd4\x1a\x0b", 1, 5, HL_STATUS_INVALID, "type mismatch"},
        {"br_on_non_null no label value", "\0", "\xd0\x70\xd6\x00\x0b", 1, 5, HL_STATUS_INVALID, "type mismatch"},
        {"struct.new of no type", "\0", "\xfb\x00\x05\x0b", 1, 4, HL_STATUS_INVALID, "unknown type"},
        {"struct.new of a function type", "\0", "\xfb\x00\x00\x1a\x0b", 1, 5, HL_STATUS_INVALID, "type mismatch"},
        {"gc sub-opcode 31", "\0", "\xfb\x1f\x0b", 1, 3, HL_STATUS_MALFORMED, "illegal opcode"},
        {"threads prefix", "\0", "\xfe\x00\x0b", 1, 3, HL_STATUS_UNSUPPORTED, "threads"},
        {"simd 0x114", "\0", "\xfd\x94\x02\x0b", 1, 4, HL_STATUS_MALFORMED, "illegal opcode"},
        {"catch kind 4", "\0", "\x1f\x40\x01\x04\x00\x0b\x0b", 1, 7, HL_STATUS_MALFORMED, "malformed catch clause"},
        {"unknown tag", "\0", "\x08\x00\x0b", 1, 3, HL_STATUS_INVALID, "unknown tag"},
        {"rethrow label", "\0", "\x02\x40\x09\x00\x0b\x0b", 1, 6, HL_STATUS_INVALID, "invalid rethrow label"},
        {"delegate block", "\0", "\x02\x40\x18\x00\x0b", 1, 5, HL_STATUS_INVALID, "delegate without try"},
        {"catch block", "\0", "\x02\x40\x19\x0b\x0b", 1, 5, HL_STATUS_INVALID, "catch without try"},
        {"try_table label", "\0", "\x1f\x40\x01\x02\x05\x0b\x0b", 1, 7, HL_STATUS_INVALID, "unknown label"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      eng_store *s = eng_store_new(NULL);
      size_t len;
      uint8_t *m = build((const uint8_t *)cases[i].locals, cases[i].nl, (const uint8_t *)cases[i].body,
                         cases[i].nb, &len);
      st = eng_instantiate(s, m, len, &inst, &err);
      CHECK(st == cases[i].status && strcmp(err.msg, cases[i].msg) == 0, "%s: %u %s", cases[i].what, st, err.msg);
      free(m);
      eng_store_free(s);
    }
    eng_store *s = eng_store_new(NULL);
    size_t len;
    uint8_t *m = build((const uint8_t *)"\0", 1, (const uint8_t *)"\xd0\x69\x0a\x0b", 4, &len);
    st = eng_instantiate(s, m, len, &inst, &err);
    CHECK(st == HL_STATUS_OK, "throw_ref module: %u %s", st, err.msg);
    st = call(s, inst, "f", NULL, 0, r, &nr, &err);
    CHECK(st == HL_STATUS_TRAP && err.trap == HL_TRAP_NULL_REFERENCE, "throw_ref null: %u %u %s", st, err.trap, err.msg);
    free(m);
    eng_store_free(s);
  }

  // Kept exceptions are collected: f(n) catches n exceptions by reference (catch_ref), keeps
  // only the first exnref in a global, then rethrows it and returns its payload (n). Thousands
  // of iterations run several collections; freeing the global's exception would be a
  // use-after-free (ASan), keeping every one would grow the list past the bound.
  {
    static const uint8_t gc_mod[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0f, 0x03, 0x60, 0x01, 0x7f, 0x01, 0x7f,
        0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x02, 0x7f, 0x69, 0x03, 0x02, 0x01, 0x00, 0x0d, 0x03, 0x01,
        0x00, 0x01, 0x06, 0x06, 0x01, 0x69, 0x01, 0xd0, 0x69, 0x0b, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00,
        0x00, 0x0a, 0x3c, 0x01, 0x3a, 0x01, 0x01, 0x69, 0x03, 0x40, 0x02, 0x02, 0x1f, 0x40, 0x01, 0x01,
        0x00, 0x00, 0x20, 0x00, 0x08, 0x00, 0x0b, 0x00, 0x0b, 0x21, 0x01, 0x1a, 0x23, 0x00, 0xd1, 0x04,
        0x40, 0x20, 0x01, 0x24, 0x00, 0x0b, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b,
        0x02, 0x7f, 0x1f, 0x40, 0x01, 0x00, 0x00, 0x00, 0x23, 0x00, 0x0a, 0x0b, 0x00, 0x0b, 0x0b};
    eng_store *s = eng_store_new(NULL);
    st = eng_instantiate(s, gc_mod, sizeof gc_mod, &inst, &err);
    CHECK(st == HL_STATUS_OK, "gc module: %u %s", st, err.msg);
    for (int k = 0; k < 3 && st == HL_STATUS_OK; k++) {
      p[0] = 5000;
      st = call(s, inst, "f", p, 1, r, &nr, &err);
      CHECK(st == HL_STATUS_OK && r[0] == 5000, "gc f: %u %s %llu", st, err.msg, (unsigned long long)r[0]);
      CHECK(s->nkept <= 2 * ENG_EXN_COLLECT_MIN, "kept exceptions: %u", s->nkept);
    }
    eng_store_free(s);
  }

  // Compile tier, WebAssembly 3.0 (wat/jit3.wat, jit3b.wat): on each tier, loops of 10^7 tail
  // calls (return_call, return_call_ref, return_call_indirect, and mutual ones that cross the
  // tiers with ENG_TIER_MIXED) under a call depth limit of 50, so a tail call that took a frame
  // or native stack would trap or overflow; a tail call into another instance's compiled
  // function (it must see its own memory); typed function references and their traps. On the
  // compiled tier every function of the module must have been compiled.
  for (uint32_t tier = 0; tier < 3; tier++) {
    eng_limits lim = {10, 50, 0, tiers[tier]};
    eng_store *s = eng_store_new(&lim);
    snprintf(path, sizeof path, "%s/jit3.wasm", dir);
    uint8_t *ma = malloc(1 << 20), *mb = malloc(1 << 20); // (readf's buffer is reused)
    memcpy(ma, readf(path, &n), n);
    st = eng_instantiate(s, ma, n, &inst, &err);
    CHECK(st == HL_STATUS_OK, "instantiate jit3: %u %s", st, err.msg);
    if (st != HL_STATUS_OK) { eng_store_free(s); free(ma); free(mb); continue; }
    if (tiers[tier] == ENG_TIER_COMPILED && s->jit) {
      const eng_inst *in = s->insts[inst];
      for (uint32_t i = 0; i < in->nown_funcs; i++)
        CHECK(in->own_funcs[i].jit_entry != NULL, "jit3 function %u not compiled", i);
    }
    static const struct { const char *name; uint64_t want; } loops[] = {
        {"loop", 10000000}, {"loop_ref", 20000000}, {"loop_ind", 70000000}, {"even", 20000000}};
    for (size_t k = 0; k < sizeof loops / sizeof loops[0]; k++) {
      p[0] = 10000000;
      p[1] = 0;
      st = call(s, inst, loops[k].name, p, 2, r, &nr, &err);
      CHECK(st == HL_STATUS_OK && r[0] == loops[k].want, "tier %u %s: %u %s %llu", tier, loops[k].name, st,
            err.msg, (unsigned long long)r[0]);
    }
    for (uint64_t i = 0; i < 2; i++) {
      p[0] = i;
      st = call(s, inst, "refs", p, 1, r, &nr, &err);
      CHECK(st == HL_STATUS_OK && r[0] == (i ? 109 : (uint64_t)-1), "tier %u refs %llu: %u %s %llx", tier,
            (unsigned long long)i, st, err.msg, (unsigned long long)r[0]);
    }
    static const struct { const char *name; uint32_t trap; } traps[] = {
        {"call_null", HL_TRAP_NULL_FUNCTION_REFERENCE}, {"as_null", HL_TRAP_NULL_REFERENCE},
        {"tail_oob", HL_TRAP_UNDEFINED_ELEMENT}};
    for (size_t k = 0; k < sizeof traps / sizeof traps[0]; k++) {
      st = call(s, inst, traps[k].name, NULL, 0, r, &nr, &err);
      CHECK(st == HL_STATUS_TRAP && err.trap == traps[k].trap, "tier %u %s: %u %u %s", tier, traps[k].name, st,
            err.trap, err.msg);
    }
    st = eng_register(s, inst, "a", 1, &err);
    CHECK(st == HL_STATUS_OK, "register jit3: %u %s", st, err.msg);
    uint32_t inst_b;
    snprintf(path, sizeof path, "%s/jit3b.wasm", dir);
    memcpy(mb, readf(path, &n), n);
    st = eng_instantiate(s, mb, n, &inst_b, &err);
    CHECK(st == HL_STATUS_OK, "instantiate jit3b: %u %s", st, err.msg);
    p[0] = 1000000;
    st = call(s, inst_b, "tail_import", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 7000000, "tier %u tail_import: %u %s %llu", tier, st, err.msg,
          (unsigned long long)r[0]);
    eng_store_free(s);
    free(ma);
    free(mb);
  }

  // memory64 and multi-memory on each tier (wat/jit3m.wat): compiled on the compile tier; an
  // address + offset that carries out of 64 bits traps (a wrap would land at 0, in bounds).
  for (uint32_t tier = 0; tier < 3; tier++) {
    eng_store *s = store_with(dir, "jit3m.wasm", (eng_limits){10, 50, 0, tiers[tier]}, &inst);
    if (!s) continue;
    if (tiers[tier] == ENG_TIER_COMPILED && s->jit) {
      const eng_inst *in = s->insts[inst];
      for (uint32_t i = 0; i < in->nown_funcs; i++)
        CHECK(in->own_funcs[i].jit_entry != NULL, "jit3m function %u not compiled", i);
    }
    p[0] = 8192;
    st = call(s, inst, "sum64", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 8191ull * 8192 / 2, "tier %u sum64: %u %s %llu", tier, st, err.msg,
          (unsigned long long)r[0]);
    static const struct { const char *name; uint64_t a; } oob[] = {
        {"wrap_load", 0xffffffffffffff00ull}, {"wrap_store", 0xffffffff00000001ull}, {"far", 0},
        {"wrap_load", 65536 - 0x100 - 7}, {"m1_oob", 0}};
    for (size_t k = 0; k < sizeof oob / sizeof oob[0]; k++) {
      p[0] = oob[k].a;
      st = call(s, inst, oob[k].name, p, k == 4 ? 0 : 1, r, &nr, &err);
      CHECK(st == HL_STATUS_TRAP && err.trap == HL_TRAP_MEMORY_OUT_OF_BOUNDS, "tier %u %s %llx: %u %u %s", tier,
            oob[k].name, (unsigned long long)oob[k].a, st, err.trap, err.msg);
    }
    p[0] = 65536 - 0x100 - 8;
    st = call(s, inst, "wrap_load", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK, "tier %u wrap_load at the end: %u %s", tier, st, err.msg);
    st = call(s, inst, "m1", NULL, 0, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 0x04030201u + 50, "tier %u m1: %u %s %llx", tier, st, err.msg,
          (unsigned long long)r[0]);
    eng_store_free(s);
  }

  // Exceptions through compiled frames (wat/jit3e[abc].wat), on each tier: an exception thrown
  // in instance b, called from compiled code of instance c (a native call between two compiled
  // functions on the way), reaches the handler of instance a above it; catch_ref, a rethrow by
  // a compiled function, a throw by a compiled function of the handler's own instance, an
  // escape to the outermost call (uncaught trap, the exception freed) and throw_ref of null.
  // On the compiled tier every function without a handler must have been compiled.
  for (uint32_t tier = 0; tier < 3; tier++) {
    eng_limits lim = {10, 50, 0, tiers[tier]};
    eng_store *s = eng_store_new(&lim);
    static const char *const names[] = {"jit3eb", "jit3ec", "jit3ea"}, *const as[] = {"b", "c", "a"};
    uint32_t ids[3];
    uint8_t *bufs[3] = {0};
    bool ok = true;
    for (int k = 0; k < 3; k++) {
      snprintf(path, sizeof path, "%s/%s.wasm", dir, names[k]);
      bufs[k] = malloc(1 << 16);
      memcpy(bufs[k], readf(path, &n), n);
      st = eng_instantiate(s, bufs[k], n, &ids[k], &err);
      CHECK(st == HL_STATUS_OK, "instantiate %s: %u %s", names[k], st, err.msg);
      if (st == HL_STATUS_OK) st = eng_register(s, ids[k], as[k], 1, &err);
      if (st != HL_STATUS_OK) ok = false;
      if (!ok) break;
      if (tiers[tier] == ENG_TIER_COMPILED && s->jit) {
        const eng_inst *in = s->insts[ids[k]];
        for (uint32_t i = 0; i < in->nown_funcs; i++)
          CHECK(in->own_funcs[i].jit_entry != NULL || in->own_funcs[i].nhandlers, "%s function %u not compiled",
                names[k], i);
      }
    }
    if (ok) {
      static const struct { const char *name; uint64_t want; } catches[] = {
          {"catch", 106}, {"catch_ref", 1006}, {"catch_local", 10}};
      for (size_t k = 0; k < sizeof catches / sizeof catches[0]; k++) {
        for (int rep = 0; rep < 3; rep++) { // a second call finds the store clean
          p[0] = 5;
          st = call(s, ids[2], catches[k].name, p, 1, r, &nr, &err);
          CHECK(st == HL_STATUS_OK && (uint32_t)r[0] == catches[k].want, "tier %u %s: %u %u %s %llu", tier,
                catches[k].name, st, err.trap, err.msg, (unsigned long long)r[0]);
        }
      }
      p[0] = 5;
      st = call(s, ids[2], "uncaught", p, 1, r, &nr, &err);
      CHECK(st == HL_STATUS_TRAP && err.trap == HL_TRAP_UNCAUGHT_EXCEPTION, "tier %u uncaught: %u %u %s", tier,
            st, err.trap, err.msg);
      CHECK(s->thrown == NULL, "tier %u: an exception left in flight", tier);
      st = call(s, ids[0], "throw", p, 1, r, &nr, &err);
      CHECK(st == HL_STATUS_TRAP && err.trap == HL_TRAP_UNCAUGHT_EXCEPTION, "tier %u throw: %u %u %s", tier, st,
            err.trap, err.msg);
      st = call(s, ids[0], "throw_null", NULL, 0, r, &nr, &err);
      CHECK(st == HL_STATUS_TRAP && err.trap == HL_TRAP_NULL_REFERENCE, "tier %u throw_null: %u %u %s", tier, st,
            err.trap, err.msg);
      p[0] = 7;
      st = call(s, ids[2], "catch", p, 1, r, &nr, &err); // still usable after the traps
      CHECK(st == HL_STATUS_OK && (uint32_t)r[0] == 108, "tier %u catch after traps: %u %s", tier, st, err.msg);
    }
    eng_store_free(s);
    for (int k = 0; k < 3; k++) free(bufs[k]);
  }

  // One fuel budget per call however often it crosses the tiers (wat/fuel.wat): burn(100)
  // needs about 10^6, more than the 10^5 given, and must run out on every tier; burn(2) fits.
  for (uint32_t tier = 0; tier < 3; tier++) {
    eng_store *s = store_with(dir, "fuel.wasm", (eng_limits){10, 100, 100000, tiers[tier]}, &inst);
    if (!s) continue;
    p[0] = 100;
    st = call(s, inst, "burn", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_TRAP && err.trap == HL_TRAP_HOST, "tier %u burn 100: %u %u %s", tier, st, err.trap,
          err.msg);
    p[0] = 2;
    st = call(s, inst, "burn", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_OK && r[0] == 12001, "tier %u burn 2: %u %s %llu", tier, st, err.msg,
          (unsigned long long)r[0]);
    eng_store_free(s);
  }

  // fuel, call depth, memory/table growth, host boundary
  {
    eng_limits lim = {10, 100, 100000, ENG_TIER_COMPILED};
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
  // the operand-slot compiler: pending locals/constants, retargeting, fusion
  {
    eng_limits lim = {10, 100, 0, ENG_TIER_COMPILED};
    eng_store *s = eng_store_new(&lim);
    snprintf(path, sizeof path, "%s/slots.wasm", dir);
    b = readf(path, &n);
    st = eng_instantiate(s, b, n, &inst, &err);
    CHECK(st == HL_STATUS_OK, "instantiate slots: %u %s", st, err.msg);
    struct { const char *f; uint32_t np; uint64_t p[3]; uint32_t nr; uint64_t r[2]; } t[] = {
        {"hz2", 1, {21}, 1, {42}},
        {"brv", 3, {1, 5, 6}, 1, {5}},
        {"brv", 3, {0, 5, 6}, 1, {6}},
        {"teecall", 1, {4}, 1, {10}},
        {"brt", 2, {0, 1}, 1, {11}},
        {"brt", 2, {1, 1}, 1, {21}},
        {"brt", 2, {2, 1}, 1, {31}},
        {"brt", 2, {9, 1}, 1, {31}},
        {"loopsum", 1, {10}, 1, {55}},
        {"ifp", 2, {1, 9}, 2, {9, 1}},
        {"ifp", 2, {0, 9}, 2, {9, 2}},
        {"sel", 3, {1, 2, 1}, 1, {1}},
        {"sel", 3, {1, 2, 0}, 1, {2}},
        {"konst", 1, {90}, 1, {33}},
        {"k64", 1, {5}, 1, {0x300000005ull}},
        {"cmpif", 2, {1, 2}, 1, {0xffffffffu}},
        {"cmpif", 2, {2, 2}, 1, {0}},
        {"cmpif", 2, {3, 2}, 1, {1}},
        {"ldx", 1, {0}, 1, {10}},
        {"ldx", 1, {0xfffffff8u}, 1, {2}},
        {"rt", 1, {5}, 1, {25}},
    };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
      st = call(s, inst, t[i].f, t[i].p, t[i].np, r, &nr, &err);
      CHECK(st == HL_STATUS_OK && nr == t[i].nr && r[0] == t[i].r[0] && (nr < 2 || r[1] == t[i].r[1]),
            "%s(%llu, %llu): st %u nr %u got %llu %llu", t[i].f, (unsigned long long)t[i].p[0],
            (unsigned long long)t[i].p[1], st, nr, (unsigned long long)r[0], (unsigned long long)r[1]);
    }
    eng_store_free(s);
  }
  // memory larger than the engine cap
  {
    eng_limits lim = {1, 100, 0, ENG_TIER_COMPILED};
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
    eng_limits lim = {10, 1000000, 0, ENG_TIER_COMPILED};
    eng_store *s = eng_store_new(&lim);
    uint8_t *m = nested(70000, &n);
    st = eng_instantiate(s, m, n, &inst, &err);
    CHECK(st == HL_STATUS_LIMIT, "nest 70000: %u %s", st, err.msg);
    free(m);
    m = nested(60000, &n);
    st = eng_instantiate(s, m, n, &inst, &err);
    CHECK(st == HL_STATUS_OK, "nest 60000: %u %s", st, err.msg);
    free(m);
    st = eng_call(s, inst, 0, NULL, 0, r, &nr, &err);
    CHECK(st == HL_STATUS_OK, "run nest 60000: %u %s", st, err.msg);
    static const uint8_t biglocals[] = {1, 0xc0, 0xb8, 0x02, 0x7f}; // 40000 x i32
    m = build(biglocals, sizeof biglocals, (const uint8_t *)"\x10\x00\x0b", 3, &n); // call 0
    st = eng_instantiate(s, m, n, &inst, &err);
    CHECK(st == HL_STATUS_OK, "biglocals: %u %s", st, err.msg);
    free(m);
    st = eng_call(s, inst, 0, NULL, 0, r, &nr, &err);
    CHECK(st == HL_STATUS_TRAP && err.trap == HL_TRAP_CALL_STACK_EXHAUSTED, "biglocals recursion: %u %s", st, err.msg);
    static const uint8_t toomany[] = {2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 2, 0x7e};
    m = build(toomany, sizeof toomany, (const uint8_t *)"\x0b", 1, &n);
    st = eng_instantiate(s, m, n, &inst, &err);
    CHECK(st == HL_STATUS_MALFORMED, "2^32+1 locals: %u %s", st, err.msg);
    free(m);
    static const uint8_t limit[] = {1, 0xe0, 0xd4, 0x03, 0x7f}; // 60000 locals
    m = build(limit, sizeof limit, (const uint8_t *)"\x0b", 1, &n);
    st = eng_instantiate(s, m, n, &inst, &err);
    CHECK(st == HL_STATUS_LIMIT, "60000 locals: %u %s", st, err.msg);
    free(m);
    eng_store_free(s);
  }
  // garbage and truncations of a valid module never crash
  {
    eng_limits lim = {10, 100, 1000, ENG_TIER_COMPILED};
    eng_store *s = eng_store_new(&lim);
    snprintf(path, sizeof path, "%s/edge.wasm", dir);
    b = readf(path, &n);
    static uint8_t copy[1 << 16];
    for (size_t k = 0; k < n; k++) {
      memcpy(copy, b, n);
      (void)eng_instantiate(s, copy, k, &inst, &err); // truncated: must not crash
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
  // GC: with the heap capped at 64 MiB, a loop allocates about 1 GiB of objects (128 Ki nodes,
  // each with a 1024-element i8 array: 8 KiB, one slot per element) keeping 16 alive: the collector runs when the heap fills, the kept list survives
  // intact (churn's checksum); a live set larger than the heap traps, no crash. On each tier:
  // compiled, the roots are in compiled frames (written back before each GC instruction's call).
  snprintf(path, sizeof path, "%s/gc.wasm", dir);
  for (uint32_t tier = 0; tier < 3 && (b = readf(path, &n)); tier++) {
    eng_limits lim = {0, 0, 0, tiers[tier]};
    plat_hosted_set_heap_limit(64u << 20);
    eng_store *s = eng_store_new(&lim);
    st = eng_instantiate(s, b, n, &inst, &err);
    CHECK(st == HL_STATUS_OK, "gc.wasm: %u %s", st, err.msg);
    if (tiers[tier] == ENG_TIER_COMPILED && s->jit)
      for (uint32_t i = 0; i < s->insts[inst]->nown_funcs; i++)
        CHECK(s->insts[inst]->own_funcs[i].jit_entry != NULL, "gc.wasm function %u not compiled", i);
    p[0] = 1u << 17;
    st = call(s, inst, "churn", p, 1, r, &nr, &err);
    uint64_t want = 0;
    for (uint64_t k = p[0] - 16; k < p[0]; k++) want += k;
    CHECK(st == HL_STATUS_OK && nr == 1 && r[0] == want, "gc churn: %u %s %llu", st, err.msg,
          (unsigned long long)r[0]);
    p[0] = 4096; // 4096 x 64 KiB = 256 MiB live
    st = call(s, inst, "hoard", p, 1, r, &nr, &err);
    CHECK(st == HL_STATUS_TRAP && err.trap == HL_TRAP_HEAP_EXHAUSTED, "gc hoard: %u %u %s", st, err.trap, err.msg);
    p[0] = 1u << 16; // the store still works after the trap (the hoard is still reachable, so
    st = call(s, inst, "churn", p, 1, r, &nr, &err); // this one may trap too, but not crash)
    CHECK(st == HL_STATUS_OK || (st == HL_STATUS_TRAP && err.trap == HL_TRAP_HEAP_EXHAUSTED), "gc after hoard: %u %s", st, err.msg);
    eng_store_free(s);
    plat_hosted_set_heap_limit(0);
  }

  printf("%s\n", failures ? "edge: FAILED" : "edge: ok");
  return failures != 0;
}
