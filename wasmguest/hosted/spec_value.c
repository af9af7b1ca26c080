// spec_value.c — see spec_value.h.
#include "spec_value.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../engine/engine.h"

int spec_type_slots(uint8_t t) { return t == ENG_V128 ? 2 : 1; }

static bool parse_u64(const char *s, uint64_t *out) {
  bool neg = *s == '-';
  if (neg) s++;
  if (*s == 0) return false;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return false;
    uint64_t d = (uint64_t)(*s - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = neg ? (uint64_t)0 - v : v;
  return true;
}

static bool parse_nan(const char *s, nan_kind *k) {
  if (strcmp(s, "nan:canonical") == 0) *k = NAN_CANONICAL;
  else if (strcmp(s, "nan:arithmetic") == 0) *k = NAN_ARITHMETIC;
  else return false;
  return true;
}

const char *spec_parse_value(const json *j, spec_val *v, bool *unsupported) {
  memset(v, 0, sizeof *v);
  *unsupported = false;
  const char *t = json_get_str(j, "type");
  const json *val = json_get(j, "value");
  if (t == NULL) return "value without a type";
  if (strcmp(t, "v128") == 0) {
    v->type = ENG_V128;
    const char *lt = json_get_str(j, "lane_type");
    if (lt == NULL || val == NULL || val->type != JSON_ARRAY) return "bad v128 value";
    if (strcmp(lt, "i8") == 0) v->lane_bytes = 1;
    else if (strcmp(lt, "i16") == 0) v->lane_bytes = 2;
    else if (strcmp(lt, "i32") == 0 || strcmp(lt, "f32") == 0) v->lane_bytes = 4;
    else if (strcmp(lt, "i64") == 0 || strcmp(lt, "f64") == 0) v->lane_bytes = 8;
    else return "bad v128 lane type";
    v->lane_float = lt[0] == 'f';
    size_t lanes = 16 / v->lane_bytes;
    if (val->n != lanes) return "bad v128 lane count";
    uint8_t bytes[16];
    for (size_t i = 0; i < lanes; i++) {
      const json *l = val->items[i];
      uint64_t x = 0;
      if (l->type != JSON_STRING) return "bad v128 lane";
      if (v->lane_float && parse_nan(l->str, &v->lane_nan[i])) x = 0;
      else if (!parse_u64(l->str, &x)) return "bad v128 lane";
      for (unsigned b = 0; b < v->lane_bytes; b++) bytes[i * v->lane_bytes + b] = (uint8_t)(x >> (8 * b));
    }
    for (int b = 0; b < 8; b++) {
      v->slot[0] |= (uint64_t)bytes[b] << (8 * b);
      v->slot[1] |= (uint64_t)bytes[8 + b] << (8 * b);
    }
    return NULL;
  }
  if (strcmp(t, "refnull") == 0) { // a null reference of any type (typed function references)
    v->type = ENG_FUNCREF;
    return NULL;
  }
  // GC result patterns (tests/spectest/format.go): any non-null reference of the kind (the
  // slot does not tell the kind)
  // (hostref N: host value N inside anyref, a box: the slot is its address, so non-null too)
  static const char *const gc_kinds[] = {"anyref", "eqref", "i31ref", "structref", "arrayref", "exnref", "hostref"};
  for (size_t i = 0; i < sizeof gc_kinds / sizeof gc_kinds[0]; i++) {
    if ((val == NULL || strcmp(t, "hostref") == 0) && strcmp(t, gc_kinds[i]) == 0) {
      v->type = ENG_FUNCREF;
      v->any_nonnull = true;
      return NULL;
    }
  }
  if (val == NULL && (strcmp(t, "funcref") == 0 || strcmp(t, "externref") == 0)) {
    v->type = t[0] == 'e' ? ENG_EXTERNREF : ENG_FUNCREF;
    v->any_nonnull = true; // only in expected results (an argument needs a value)
    return NULL;
  }
  if (val == NULL || val->type != JSON_STRING) return "value without a value";
  const char *s = val->str;
  uint64_t x;
  if (strcmp(t, "i32") == 0 || strcmp(t, "f32") == 0) {
    v->type = t[0] == 'i' ? ENG_I32 : ENG_F32;
    if (v->type == ENG_F32 && parse_nan(s, &v->nan)) return NULL;
    if (!parse_u64(s, &x)) return "bad number";
    v->slot[0] = x & 0xffffffffu;
  } else if (strcmp(t, "i64") == 0 || strcmp(t, "f64") == 0) {
    v->type = t[0] == 'i' ? ENG_I64 : ENG_F64;
    if (v->type == ENG_F64 && parse_nan(s, &v->nan)) return NULL;
    if (!parse_u64(s, &x)) return "bad number";
    v->slot[0] = x;
  } else if (strcmp(t, "externref") == 0 || strcmp(t, "funcref") == 0) {
    v->type = t[0] == 'e' ? ENG_EXTERNREF : ENG_FUNCREF;
    if (strcmp(s, "null") == 0) {
      v->slot[0] = 0;
    } else if (v->type == ENG_FUNCREF) {
      *unsupported = true;
      return "non-null funcref values cannot be made by the runner";
    } else {
      // Host reference k is the handle k+1 (0 is null); the engine passes handles through.
      if (!parse_u64(s, &x) || x == UINT64_MAX) return "bad externref";
      v->slot[0] = x + 1;
    }
  } else {
    *unsupported = true;
    return "unknown value type";
  }
  return NULL;
}

static bool match_nan(uint64_t bits, bool is64, nan_kind k) {
  if (is64) {
    uint64_t canon = 0x7ff8000000000000u;
    return k == NAN_CANONICAL ? (bits & ~(1ull << 63)) == canon : (bits & canon) == canon;
  }
  if (bits > 0xffffffffu) return false;
  uint64_t canon = 0x7fc00000u;
  return k == NAN_CANONICAL ? (bits & 0x7fffffffu) == canon : (bits & canon) == canon;
}

bool spec_match_value(const spec_val *e, const uint64_t *got) {
  switch (e->type) {
  case ENG_F32:
    if (e->nan != NAN_NONE) return match_nan(got[0], false, e->nan);
    return got[0] == e->slot[0];
  case ENG_F64:
    if (e->nan != NAN_NONE) return match_nan(got[0], true, e->nan);
    return got[0] == e->slot[0];
  case ENG_V128: {
    unsigned lb = e->lane_bytes;
    for (unsigned i = 0; i < 16 / lb; i++) {
      unsigned off = i * lb * 8; // bit offset in the 128-bit value
      uint64_t mask = lb == 8 ? UINT64_MAX : ((uint64_t)1 << (lb * 8)) - 1;
      uint64_t g = (got[off / 64] >> (off % 64)) & mask;
      uint64_t x = (e->slot[off / 64] >> (off % 64)) & mask;
      if (e->lane_float && e->lane_nan[i] != NAN_NONE) {
        if (!match_nan(g, lb == 8, e->lane_nan[i])) return false;
      } else if (g != x) {
        return false;
      }
    }
    return true;
  }
  default: return e->any_nonnull ? got[0] != 0 : got[0] == e->slot[0];
  }
}

const char *spec_type_name(uint8_t t) {
  switch (t) {
  case ENG_I32: return "i32";
  case ENG_I64: return "i64";
  case ENG_F32: return "f32";
  case ENG_F64: return "f64";
  case ENG_V128: return "v128";
  case ENG_FUNCREF: return "funcref";
  case ENG_EXTERNREF: return "externref";
  default: return "?";
  }
}

void spec_format_slots(char *out, size_t size, uint8_t t, const uint64_t *s) {
  size_t n = strlen(out);
  if (n >= size) return;
  if (t == ENG_V128)
    snprintf(out + n, size - n, "v128:0x%016" PRIx64 "%016" PRIx64, s[1], s[0]);
  else if (t == ENG_I32 || t == ENG_F32)
    snprintf(out + n, size - n, "%s:0x%08" PRIx64, spec_type_name(t), s[0]);
  else
    snprintf(out + n, size - n, "%s:0x%016" PRIx64, spec_type_name(t), s[0]);
}

void spec_format_expected(char *out, size_t size, const spec_val *e) {
  size_t n = strlen(out);
  if (n >= size) return;
  if (e->nan != NAN_NONE) {
    snprintf(out + n, size - n, "%s:nan:%s", spec_type_name(e->type),
             e->nan == NAN_CANONICAL ? "canonical" : "arithmetic");
    return;
  }
  bool lane_nan = false;
  for (int i = 0; i < 16; i++) lane_nan |= e->lane_nan[i] != NAN_NONE;
  spec_format_slots(out, size, e->type, e->slot);
  if (lane_nan) {
    n = strlen(out);
    if (n < size) snprintf(out + n, size - n, " (with nan lanes)");
  }
}
