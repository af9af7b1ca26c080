// reader.h — bounds-checked LEB128/byte reader shared by decode.c and compile.c.
#ifndef HL_ENGINE_READER_H
#define HL_ENGINE_READER_H
#include "internal.h"
#include "simd.h"

// ---------------------------------------------------------------- reader
typedef struct {
  const uint8_t *p, *end;
  eng_error *err;
  uint32_t status;
} rd;

static inline bool fail(rd *r, uint32_t status, const char *msg) {
  if (!r->status) {
    r->status = status;
    eng_set_error(r->err, status, msg);
  }
  return false;
}
#define MALF(r, msg) fail((r), HL_STATUS_MALFORMED, (msg))

static inline bool rd_byte(rd *r, uint8_t *out) {
  if (r->p >= r->end) return MALF(r, "unexpected end");
  *out = *r->p++;
  return true;
}

static inline bool rd_u32(rd *r, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < 5; i++) {
    uint8_t b;
    if (r->p >= r->end) return MALF(r, "unexpected end");
    b = *r->p++;
    if (i == 4) {
      if (b & 0x80) return MALF(r, "integer representation too long");
      if (b & 0x70) return MALF(r, "integer too large");
    }
    v |= (uint32_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) { *out = v; return true; }
  }
  return MALF(r, "integer representation too long");
}

static inline bool rd_sleb(rd *r, int bits, int64_t *out) {
  uint64_t v = 0;
  int shift = 0;
  int maxbytes = (bits + 6) / 7;
  for (int i = 0; i < maxbytes; i++) {
    uint8_t b;
    if (r->p >= r->end) return MALF(r, "unexpected end");
    b = *r->p++;
    if (i == maxbytes - 1) {
      if (b & 0x80) return MALF(r, "integer representation too long");
      // remaining bits: the bits beyond `bits` must be a sign extension
      int used = bits - 7 * i;  // number of meaningful bits in this byte (1..7)
      uint8_t rest = (uint8_t)(b & 0x7f) >> (used - 1); // sign bit and above
      uint8_t all = (uint8_t)(0x7f >> (used - 1));
      if (rest != 0 && rest != all) return MALF(r, "integer too large");
    }
    v |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) {
      if (shift < 64 && (b & 0x40)) v |= ~(uint64_t)0 << shift;
      *out = (int64_t)v;
      return true;
    }
  }
  return MALF(r, "integer representation too long");
}

static inline bool rd_bytes(rd *r, size_t n, const uint8_t **out) {
  if ((size_t)(r->end - r->p) < n) return MALF(r, "unexpected end");
  *out = r->p;
  r->p += n;
  return true;
}

static inline bool utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) { i++; continue; }
    uint32_t cp, need;
    if (c >= 0xc2 && c <= 0xdf) { cp = c & 0x1f; need = 1; }
    else if (c >= 0xe0 && c <= 0xef) { cp = c & 0x0f; need = 2; }
    else if (c >= 0xf0 && c <= 0xf4) { cp = c & 0x07; need = 3; }
    else return false;
    if (n - i <= need) return false;
    for (uint32_t k = 1; k <= need; k++) {
      uint8_t d = s[i + k];
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return false;
    if (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) return false;
    i += need + 1;
  }
  return true;
}

static inline bool rd_name(rd *r, const uint8_t **s, uint32_t *n) {
  if (!rd_u32(r, n)) return false;
  if ((size_t)(r->end - r->p) < *n) return MALF(r, "length out of bounds");
  *s = r->p;
  r->p += *n;
  if (!utf8_valid(*s, *n)) return MALF(r, "malformed UTF-8 encoding");
  return true;
}

static inline bool is_valtype(uint8_t b) {
  return b == VT_I32 || b == VT_I64 || b == VT_F32 || b == VT_F64 || b == VT_V128 ||
         b == VT_FUNCREF || b == VT_EXTERNREF;
}

static inline bool rd_valtype(rd *r, uint8_t *t) {
  if (!rd_byte(r, t)) return false;
  if (!is_valtype(*t)) return MALF(r, "malformed value type");
  return true;
}

static inline bool rd_reftype(rd *r, uint8_t *t) {
  if (!rd_byte(r, t)) return false;
  if (*t != VT_FUNCREF && *t != VT_EXTERNREF) return MALF(r, "malformed reference type");
  return true;
}

static inline bool rd_limits(rd *r, eng_limits_t *l) {
  uint8_t flag;
  if (!rd_byte(r, &flag)) return false;
  if (flag > 1) return MALF(r, "integer too large");
  if (!rd_u32(r, &l->min)) return false;
  l->has_max = flag == 1;
  l->max = 0;
  if (l->has_max && !rd_u32(r, &l->max)) return false;
  return true;
}

static inline bool rd_globaltype(rd *r, eng_globaltype *g) {
  if (!rd_valtype(r, &g->type)) return false;
  if (!rd_byte(r, &g->mut)) return false;
  if (g->mut > 1) return MALF(r, "malformed mutability");
  return true;
}

// Counts are capped by the bytes left (every entry takes at least one byte) and a hard limit.
static inline bool rd_count(rd *r, uint32_t *n, uint32_t limit, const char *what) {
  if (!rd_u32(r, n)) return false;
  if (*n > (size_t)(r->end - r->p)) return MALF(r, "length out of bounds");
  if (*n > limit) return fail(r, HL_STATUS_LIMIT, what);
  return true;
}

static inline void *alloc_array(rd *r, uint32_t n, size_t elem) {
  void *p = eng_xalloc((size_t)n * elem + 1);
  if (!p) fail(r, HL_STATUS_NO_MEMORY, "out of memory");
  return p;
}

static inline bool rd_constexpr(rd *r, eng_constexpr *e) {
  uint8_t op;
  if (!rd_byte(r, &op)) return false;
  e->idx = 0;
  e->val = 0;
  e->val_hi = 0;
  switch (op) {
  case 0x41: { int64_t v; if (!rd_sleb(r, 32, &v)) return false;
    e->op = OP_I32_CONST; e->type = VT_I32; e->val = (uint32_t)v; break; }
  case 0x42: { int64_t v; if (!rd_sleb(r, 64, &v)) return false;
    e->op = OP_I64_CONST; e->type = VT_I64; e->val = (uint64_t)v; break; }
  case 0x43: { const uint8_t *b; uint32_t v; if (!rd_bytes(r, 4, &b)) return false;
    memcpy(&v, b, 4); e->op = OP_F32_CONST; e->type = VT_F32; e->val = v; break; }
  case 0x44: { const uint8_t *b; uint64_t v; if (!rd_bytes(r, 8, &b)) return false;
    memcpy(&v, b, 8); e->op = OP_F64_CONST; e->type = VT_F64; e->val = v; break; }
  case 0xd0: { uint8_t t; if (!rd_reftype(r, &t)) return false;
    e->op = OP_REF_NULL; e->type = t; break; }
  case 0xd2: { if (!rd_u32(r, &e->idx)) return false;
    e->op = OP_REF_FUNC; e->type = VT_FUNCREF; break; }
  case 0x23: { if (!rd_u32(r, &e->idx)) return false;
    e->op = OP_GLOBAL_GET; e->type = VT_UNKNOWN; break; }
  case 0xfd: { uint32_t sub; const uint8_t *b; // v128.const
    if (!rd_u32(r, &sub)) return false;
    if (sub != 12) {
      uint32_t a;
      if (!eng_simd_kind(sub, &a)) return MALF(r, "illegal opcode");
      return fail(r, HL_STATUS_INVALID, "constant expression required");
    }
    if (!rd_bytes(r, 16, &b)) return false;
    memcpy(&e->val, b, 8); memcpy(&e->val_hi, b + 8, 8);
    e->op = OP_SIMD; e->type = VT_V128; break; }
  case 0x0b: return fail(r, HL_STATUS_INVALID, "type mismatch");
  default:
    if (!eng_is_opcode(op)) return MALF(r, "illegal opcode");
    return fail(r, HL_STATUS_INVALID, "constant expression required");
  }
  if (!rd_byte(r, &op)) return false;
  if (op != 0x0b) {
    // another instruction before end: a non-constant or a stack mismatch
    if (op == 0x41 || op == 0x42 || op == 0x43 || op == 0x44 || op == 0xd0 || op == 0xd2 ||
        op == 0x23 || op == 0xfd)
      return fail(r, HL_STATUS_INVALID, "type mismatch");
    return fail(r, HL_STATUS_INVALID, "constant expression required");
  }
  return true;
}

#endif
