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
  const uint8_t *kinds; uint32_t nkinds; // the module's types' kind bytes (tk_vt), for rd_heaptype
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

// Reference type shorthands (one byte: the nullable reference to that abstract heap type).
static inline bool is_reftype_byte(uint8_t b) { return vt_top(b) != 0; }

static inline bool is_valtype(uint8_t b) {
  return b == VT_I32 || b == VT_I64 || b == VT_F32 || b == VT_F64 || b == VT_V128 || is_reftype_byte(b);
}

// A value or reference type byte of a proposal the engine does not implement: the feature's
// name (the module is refused with HL_STATUS_UNSUPPORTED and the name as its message; the host
// says "unsupported feature: NAME"), else NULL.
static inline const char *unsupported_type(uint8_t b) {
  switch (b) {
  default: (void)b; return NULL;
  }
}

static inline bool bad_type(rd *r, uint8_t b, const char *malformed) {
  const char *u = unsupported_type(b);
  return u ? fail(r, HL_STATUS_UNSUPPORTED, u) : MALF(r, malformed);
}

// A heap type (typed function references): func, extern, exn, or a type index (s33 >= 0; the
// index is checked by validation). *t gets the nullable reference type of that heap type.
static inline bool rd_heaptype(rd *r, eng_vt *t, const char *malformed) {
  if (r->p >= r->end) return MALF(r, "unexpected end");
  uint8_t b = *r->p;
  if ((b & 0xc0) == 0x40) { // a one-byte negative s33: an abstract heap type
    r->p++;
    if (!is_reftype_byte(b)) return bad_type(r, b, malformed);
    *t = b;
    return true;
  }
  int64_t idx;
  if (!rd_sleb(r, 33, &idx)) return false;
  if (idx < 0) return MALF(r, malformed);
  if (idx >= (int64_t)ENG_MAX_TYPES) return fail(r, HL_STATUS_INVALID, "unknown type");
  *t = VT_IDXK((uint32_t)idx, (uint32_t)idx < r->nkinds ? r->kinds[idx] : VT_FUNCREF);
  return true;
}

// A reference type after its first byte b: funcref/externref/exnref, or 0x63/0x64 (ref null ht /
// ref ht) and a heap type.
static inline bool rd_reftype_after(rd *r, uint8_t b, eng_vt *t, const char *malformed) {
  if (is_reftype_byte(b)) { *t = b; return true; }
  if (b == 0x63 || b == 0x64) {
    if (!rd_heaptype(r, t, malformed)) return false;
    if (b == 0x64) *t |= VT_NONNULL;
    return true;
  }
  return bad_type(r, b, malformed);
}

static inline bool rd_valtype(rd *r, eng_vt *t) {
  uint8_t b;
  if (!rd_byte(r, &b)) return false;
  if (is_valtype(b)) { *t = b; return true; }
  return rd_reftype_after(r, b, t, "malformed value type");
}

static inline bool rd_reftype(rd *r, eng_vt *t) {
  uint8_t b;
  if (!rd_byte(r, &b)) return false;
  return rd_reftype_after(r, b, t, "malformed reference type");
}

static inline bool rd_u64(rd *r, uint64_t *out) {
  uint64_t v = 0;
  for (int i = 0; i < 10; i++) {
    uint8_t b;
    if (r->p >= r->end) return MALF(r, "unexpected end");
    b = *r->p++;
    if (i == 9) {
      if (b & 0x80) return MALF(r, "integer representation too long");
      if (b & 0x7e) return MALF(r, "integer too large");
    }
    v |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) { *out = v; return true; }
  }
  return MALF(r, "integer representation too long");
}

// Limits of a memory (mem: flags 4 and 5 are 64-bit memories, memory64) or a table.
static inline bool rd_limits(rd *r, eng_limits_t *l) {
  uint8_t flag;
  uint32_t x;
  if (!rd_byte(r, &flag)) return false;
  // WebAssembly 2.0 calls every other flag malformed (its tests expect that), so these stay
  // MALFORMED; the message names the proposal the flag belongs to.
  if (flag == 2 || flag == 3 || flag == 6 || flag == 7)
    return MALF(r, "integer too large (limits flag of shared memory: unsupported feature: threads)");
  if (flag > 5) return MALF(r, "integer too large");
  l->is64 = flag >= 4;
  l->has_max = flag & 1;
  l->max = 0;
  if (l->is64) return rd_u64(r, &l->min) && (!l->has_max || rd_u64(r, &l->max));
  if (!rd_u32(r, &x)) return false;
  l->min = x;
  if (l->has_max) {
    if (!rd_u32(r, &x)) return false;
    l->max = x;
  }
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

// ---------------------------------------------------------------- immediates
// One reader for the immediates of every instruction (compile_body, scan_body, rd_constexpr and
// the SIMD decoder all use it), generated from opcodes.h HL_IMM_KINDS: each kind is a sequence of
// the field readers below. It checks the binary form only (MALFORMED); what the values must
// satisfy (index ranges, alignment, lanes) is validation, done by the caller.
static inline bool rf__(rd *r, eng_imm *im) { (void)r; (void)im; return true; }
static inline bool rf_U32A(rd *r, eng_imm *im) { return rd_u32(r, &im->a); }
static inline bool rf_U32B(rd *r, eng_imm *im) { return rd_u32(r, &im->b); }
static inline bool rf_ALIGN(rd *r, eng_imm *im) {
  if (!rd_u32(r, &im->a)) return false;
  im->m = 0;
  if (im->a & 0x40) { // multi-memory: a memory index follows the flags
    im->a &= ~0x40u;
    if (!rd_u32(r, &im->m)) return false;
  }
  if (im->a >= 32) return MALF(r, "malformed memop flags");
  return true;
}
static inline bool rf_MIDX(rd *r, eng_imm *im) { return rd_u32(r, &im->m); }
// A memarg offset: u64 (memory64; validation limits a 32-bit memory's to 2^32 - 1) into .v, its
// low 32 bits into .b.
static inline bool rf_OFF(rd *r, eng_imm *im) {
  if (!rd_u64(r, &im->v)) return false;
  im->b = (uint32_t)im->v;
  return true;
}
static inline bool rf_MIDXB(rd *r, eng_imm *im) { return rd_u32(r, &im->b); }
static inline bool rf_BYTE(rd *r, eng_imm *im) { return rd_byte(r, &im->t); }
static inline bool rf_S32(rd *r, eng_imm *im) {
  int64_t x;
  if (!rd_sleb(r, 32, &x)) return false;
  im->v = (uint32_t)x;
  return true;
}
static inline bool rf_S64(rd *r, eng_imm *im) {
  int64_t x;
  if (!rd_sleb(r, 64, &x)) return false;
  im->v = (uint64_t)x;
  return true;
}
static inline bool rf_B4(rd *r, eng_imm *im) {
  const uint8_t *p;
  uint32_t x;
  if (!rd_bytes(r, 4, &p)) return false;
  memcpy(&x, p, 4);
  im->v = x;
  return true;
}
static inline bool rf_B8(rd *r, eng_imm *im) {
  const uint8_t *p;
  if (!rd_bytes(r, 8, &p)) return false;
  memcpy(&im->v, p, 8);
  return true;
}
static inline bool rf_B16(rd *r, eng_imm *im) { return rd_bytes(r, 16, &im->p); }
static inline bool rf_REFT(rd *r, eng_imm *im) { return rd_heaptype(r, &im->ty, "malformed reference type"); }
static inline bool rf_CASTT(rd *r, eng_imm *im) {
  return rd_heaptype(r, &im->ty, "malformed reference type") && rd_heaptype(r, &im->b, "malformed reference type");
}
static inline bool rf_BLOCKT(rd *r, eng_imm *im) {
  if (r->p >= r->end) return MALF(r, "unexpected end");
  uint8_t b = *r->p;
  if (b == VT_BLOCK_EMPTY || is_valtype(b)) { r->p++; im->ty = b; return true; }
  if (b == 0x63 || b == 0x64) { r->p++; return rd_reftype_after(r, b, &im->ty, "malformed value type"); }
  if (unsupported_type(b)) return bad_type(r, b, "malformed value type");
  int64_t idx;
  if (!rd_sleb(r, 33, &idx)) return false;
  if (idx < 0) return MALF(r, "malformed value type");
  im->ty = 0;
  im->a = idx > UINT32_MAX ? UINT32_MAX : (uint32_t)idx; // validation: unknown type
  return true;
}
static inline bool rf_LABELS(rd *r, eng_imm *im) {
  uint32_t x;
  if (!rd_u32(r, &im->a)) return false;
  im->p = r->p;
  for (uint32_t i = 0; i < im->a; i++)
    if (!rd_u32(r, &x)) return false;
  return true;
}
static inline bool rf_CATCHES(rd *r, eng_imm *im) {
  uint32_t x;
  uint8_t k;
  if (!rd_u32(r, &im->b)) return false;
  im->p = r->p;
  for (uint32_t i = 0; i < im->b; i++) {
    if (!rd_byte(r, &k)) return false;
    if (k > HL_CATCH_ALL_REF) return MALF(r, "malformed catch clause");
    if (k <= HL_CATCH_REF && !rd_u32(r, &x)) return false;
    if (!rd_u32(r, &x)) return false;
  }
  return true;
}
static inline bool rf_VALTS(rd *r, eng_imm *im) {
  eng_vt t;
  im->ty = 0;
  if (!rd_u32(r, &im->a)) return false;
  for (uint32_t i = 0; i < im->a; i++) {
    if (!rd_valtype(r, &t)) return false;
    if (i == 0) im->ty = t;
  }
  return true;
}

// An unknown 0xFD sub-opcode.
static inline bool simd_illegal(rd *r, uint32_t sub) {
  (void)sub;
  return MALF(r, "illegal opcode");
}

static inline bool rd_imm(rd *r, uint8_t kind, eng_imm *im) {
  switch (kind) {
#define RD_IMM_CASE(k, f1, f2, f3) case IMM_##k: return rf_##f1(r, im) && rf_##f2(r, im) && rf_##f3(r, im);
    HL_IMM_KINDS(RD_IMM_CASE)
#undef RD_IMM_CASE
  }
  return true;
}

// The immediate kind of a SIMD instruction of kind sk (simd.h SK_*).
static inline uint8_t simd_imm(uint8_t sk) {
  switch (sk) {
  case SK_LOAD: case SK_STORE: return IMM_MEMARG;
  case SK_LOADLANE: case SK_STORELANE: return IMM_MEMARG_LANE;
  case SK_CONST: case SK_SHUFFLE: return IMM_V128;
  case SK_EXTRACT: case SK_REPLACE: return IMM_LANE;
  default: return IMM_NONE;
  }
}

// One instruction of a constant expression whose first byte b has been read.
static inline bool rd_cx1(rd *r, uint8_t b, eng_constexpr *e) {
  eng_imm im = {0};
  memset(e, 0, sizeof *e);
  if (b == 0xfd) {
    uint32_t sub, a;
    if (!rd_u32(r, &sub)) return false;
    uint8_t sk = eng_simd_kind(sub, &a);
    if (!sk) return simd_illegal(r, sub);
    if (sk != SK_CONST) return fail(r, HL_STATUS_INVALID, "constant expression required");
    if (!rd_imm(r, simd_imm(sk), &im)) return false;
    memcpy(&e->val, im.p, 8);
    memcpy(&e->val_hi, im.p + 8, 8);
    e->op = OP_SIMD;
    e->type = VT_V128;
    return true;
  }
  if (b == 0xfb) { // GC: ref.i31 (typed and evaluated as a sequence's operator)
    uint32_t sub;
    if (!rd_u32(r, &sub)) return false;
    if (sub == 28) {
      e->op = OP_REF_I31;
      e->type = VT_UNKNOWN;
      return true;
    }
    if (sub == 26 || sub == 27) { // any.convert_extern, extern.convert_any (a sequence's operator)
      e->op = sub == 26 ? OP_ANY_CONVERT_EXTERN : OP_EXTERN_CONVERT_ANY;
      e->type = VT_UNKNOWN;
      return true;
    }
    // struct.new, struct.new_default, array.new, array.new_default: a type index (.idx);
    // array.new_fixed: and a count (.val). Always kept as a sequence (rd_constexpr).
    if (sub <= 1 || sub == 6 || sub == 7 || sub == 8) {
      e->op = sub == 0 ? OP_STRUCT_NEW : sub == 1 ? OP_STRUCT_NEW_DEFAULT : sub == 6 ? OP_ARRAY_NEW
            : sub == 7 ? OP_ARRAY_NEW_DEFAULT : OP_ARRAY_NEW_FIXED;
      e->type = VT_UNKNOWN;
      if (!rd_u32(r, &e->idx)) return false;
      uint32_t n = 0;
      if (sub == 8 && !rd_u32(r, &n)) return false;
      e->val = n;
      return true;
    }
    if (sub < 32 && eng_fc_map[HL_FB(sub)]) return fail(r, HL_STATUS_INVALID, "constant expression required");
    return fail(r, HL_STATUS_MALFORMED, "illegal opcode");
  }
  uint32_t op = b == 0xfc ? 0 : eng_byte_map[b]; // no 0xFC instruction is constant
  if (!op) {
    if (!eng_is_opcode(b)) return MALF(r, "illegal opcode");
    return fail(r, HL_STATUS_INVALID, "constant expression required");
  }
  op--;
  if (!eng_op_cexpr[op]) return fail(r, HL_STATUS_INVALID, "constant expression required");
  if (!rd_imm(r, eng_op_imm[op], &im)) return false;
  e->op = (uint8_t)op;
  e->val = im.v;
  e->idx = im.a;
  switch (eng_op_imm[op]) {
  case IMM_I32: e->type = VT_I32; break;
  case IMM_I64: e->type = VT_I64; break;
  case IMM_F32: e->type = VT_F32; break;
  case IMM_F64: e->type = VT_F64; break;
  case IMM_REFTYPE: e->type = im.ty; break;
  case IMM_FUNC: e->type = VT_FUNCREF; break;
  default: e->type = VT_UNKNOWN; break; // global.get, HL_CONST_BIN: typed by module validation
  }
  return true;
}

// A constant expression up to its end. One instruction fills *e; more (extended constant
// expressions) go to e->seq, and module validation types the sequence.
static inline bool rd_constexpr(rd *r, eng_constexpr *e) {
  uint8_t b;
  memset(e, 0, sizeof *e);
  if (!rd_byte(r, &b)) return false;
  if (b == 0x0b) return fail(r, HL_STATUS_INVALID, "type mismatch");
  if (!rd_cx1(r, b, e)) return false;
  if (!rd_byte(r, &b)) return false;
  bool alloc = e->op == OP_STRUCT_NEW || e->op == OP_STRUCT_NEW_DEFAULT || e->op == OP_ARRAY_NEW ||
               e->op == OP_ARRAY_NEW_DEFAULT || e->op == OP_ARRAY_NEW_FIXED; // (conversions take an operand)
  if (b == 0x0b && !alloc) return true;
  uint32_t n = 1, cap = 4;
  eng_constexpr *seq = eng_xalloc(cap * sizeof *seq);
  if (!seq) return fail(r, HL_STATUS_NO_MEMORY, "out of memory");
  seq[0] = *e;
  bool ok = true;
  while (ok && b != 0x0b) {
    if (n == ENG_MAX_CONST_OPS) { ok = fail(r, HL_STATUS_LIMIT, "constant expression too long (engine limit)"); break; }
    if (n == cap) {
      eng_constexpr *p = eng_xrealloc(seq, cap * sizeof *seq, 2 * cap * sizeof *seq);
      if (!p) { ok = fail(r, HL_STATUS_NO_MEMORY, "out of memory"); break; }
      seq = p;
      cap *= 2;
    }
    ok = rd_cx1(r, b, &seq[n]) && rd_byte(r, &b);
    n++;
  }
  if (!ok) { eng_xfree(seq); return false; }
  e->seq = seq;
  e->nseq = n;
  e->type = VT_UNKNOWN;
  return true;
}

#endif
