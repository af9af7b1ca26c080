// simd.c — semantics of the fixed-width SIMD instructions (WebAssembly 2.0), portable C11 per
// lane (the compiler may vectorize; no SSE4.1+ intrinsics). Table and encoding: simd.h.
#include "simd.h"

#include "internal.h"
#include "numeric.h"

typedef union {
  uint8_t u8[16];
  int8_t i8[16];
  uint16_t u16[8];
  int16_t i16[8];
  uint32_t u32[4];
  int32_t i32[4];
  uint64_t u64[2];
  int64_t i64[2];
  float f32[4];
  double f64[2];
} v128;

uint8_t eng_simd_kind(uint32_t sub, uint32_t *a) {
  switch (sub) {
#define SIMD_KIND(n, sub_, k, a_)                                                                 \
  case sub_:                                                                                      \
    *a = (uint32_t)(a_);                                                                          \
    return (k) == SK_INTERNAL ? 0 : (k);
    HL_SIMD_OPS(SIMD_KIND)
#undef SIMD_KIND
  default: return 0;
  }
}

static inline v128 vget(const uint64_t *fp, uint32_t slot) {
  v128 v;
  memcpy(&v, fp + slot, 16);
  return v;
}
static inline void vput(uint64_t *fp, uint32_t slot, const v128 *v) { memcpy(fp + slot, v, 16); }

static inline int8_t sat8(int32_t x) { return (int8_t)(x < -128 ? -128 : x > 127 ? 127 : x); }
static inline uint8_t usat8(int32_t x) { return (uint8_t)(x < 0 ? 0 : x > 255 ? 255 : x); }
static inline int16_t sat16(int32_t x) { return (int16_t)(x < -32768 ? -32768 : x > 32767 ? 32767 : x); }
static inline uint16_t usat16(int32_t x) { return (uint16_t)(x < 0 ? 0 : x > 65535 ? 65535 : x); }
// Relaxed SIMD's multiply-add rounds the product first: C contracts a*b+c into a fused
// multiply-add only within one expression (-ffp-contract=on), and the product passes through a
// function here.
static inline float relaxed_f32(float x) { return x; }
static inline double relaxed_f64(double x) { return x; }
// relaxed_dot lane i: a[2i]*b[2i] + a[2i+1]*b[2i+1], both signed, saturated to i16.
static inline int16_t dot_i8_pair(const v128 *a, const v128 *b, int i) {
  int32_t s = (int32_t)a->i8[2 * i] * b->i8[2 * i] + (int32_t)a->i8[2 * i + 1] * b->i8[2 * i + 1];
  return (int16_t)(s < -32768 ? -32768 : s > 32767 ? 32767 : s);
}
static inline float f32_pmin(float a, float b) { return b < a ? b : a; }
static inline float f32_pmax(float a, float b) { return a < b ? b : a; }
static inline double f64_pmin(double a, double b) { return b < a ? b : a; }
static inline double f64_pmax(double a, double b) { return a < b ? b : a; }
static inline uint8_t popcnt8(uint8_t x) { return (uint8_t)popcnt32(x); }

// lane loops: r = expr over lanes of a (and b)
#define MAP1(T, N, e)                                                                             \
  for (int i = 0; i < (N); i++) r.T[i] = (e);                                                     \
  break
#define MAP2(T, N, e) MAP1(T, N, e)
// comparisons: all-ones / zero lanes
#define CMP(T, U, N, e)                                                                           \
  for (int i = 0; i < (N); i++) r.U[i] = (e) ? (__typeof__(r.U[0]))-1 : 0;                        \
  break

uint32_t eng_simd_exec(const uint32_t *ip, uint64_t *fp, uint8_t *mem, uint64_t mem_size,
                       struct eng_inst *inst) {
  const uint32_t dst = ip[0], sub = ip[1];
  const uint32_t sa = ip[2], sb = ip[3], sc = ip[4], x = ip[5], y = ip[6];
  v128 a, b, r;
  memset(&r, 0, sizeof r);
  uint32_t words = SIMD_WORDS;
  uint64_t ea = 0;
  // Memory instructions (loads, stores, lanes, load_zero): mem/mem_size are memory 0's, unless c
  // has MEM_SEL (internal.h): then c names the memory (multi-memory), which may be 64-bit
  // (memory64: the whole address slot counts) or the offset 2^32 or more (MEM_FAR).
  bool addr64 = false, far = false;
  if ((sub <= SIMD_V128_STORE || (sub >= SIMD_V128_LOAD8_LANE && sub <= SIMD_V128_LOAD64_ZERO)) && (sc & MEM_SEL)) {
    const eng_mem *mm = inst->mems[MEM_IDX(sc)];
    mem = mm->base;
    mem_size = mm->size;
    addr64 = mm->decl.is64;
    far = (sc & MEM_FAR) != 0;
  }
  switch ((enum simd_op)sub) {
  // ---- memory
#define ADDR(n)                                                                                   \
  ea = addr64 ? fp[sa] : (uint64_t)(uint32_t)fp[sa];                                              \
  if (far || ea > mem_size || (uint64_t)x + (n) > mem_size - ea) return 0;                        \
  ea += x
  case SIMD_V128_LOAD: ADDR(16); memcpy(&r, mem + ea, 16); break;
  case SIMD_V128_LOAD8X8_S: { int8_t t[8]; ADDR(8); memcpy(t, mem + ea, 8); MAP1(i16, 8, t[i]); }
  case SIMD_V128_LOAD8X8_U: { uint8_t t[8]; ADDR(8); memcpy(t, mem + ea, 8); MAP1(u16, 8, t[i]); }
  case SIMD_V128_LOAD16X4_S: { int16_t t[4]; ADDR(8); memcpy(t, mem + ea, 8); MAP1(i32, 4, t[i]); }
  case SIMD_V128_LOAD16X4_U: { uint16_t t[4]; ADDR(8); memcpy(t, mem + ea, 8); MAP1(u32, 4, t[i]); }
  case SIMD_V128_LOAD32X2_S: { int32_t t[2]; ADDR(8); memcpy(t, mem + ea, 8); MAP1(i64, 2, t[i]); }
  case SIMD_V128_LOAD32X2_U: { uint32_t t[2]; ADDR(8); memcpy(t, mem + ea, 8); MAP1(u64, 2, t[i]); }
  case SIMD_V128_LOAD8_SPLAT: { uint8_t t; ADDR(1); memcpy(&t, mem + ea, 1); MAP1(u8, 16, t); }
  case SIMD_V128_LOAD16_SPLAT: { uint16_t t; ADDR(2); memcpy(&t, mem + ea, 2); MAP1(u16, 8, t); }
  case SIMD_V128_LOAD32_SPLAT: { uint32_t t; ADDR(4); memcpy(&t, mem + ea, 4); MAP1(u32, 4, t); }
  case SIMD_V128_LOAD64_SPLAT: { uint64_t t; ADDR(8); memcpy(&t, mem + ea, 8); MAP1(u64, 2, t); }
  case SIMD_V128_LOAD32_ZERO: ADDR(4); memcpy(&r, mem + ea, 4); break;
  case SIMD_V128_LOAD64_ZERO: ADDR(8); memcpy(&r, mem + ea, 8); break;
  case SIMD_V128_STORE: a = vget(fp, sb); ADDR(16); memcpy(mem + ea, &a, 16); return words;
#define LDLANE(n)                                                                                 \
  r = vget(fp, sb);                                                                               \
  ADDR(n);                                                                                        \
  memcpy(r.u8 + (n) * y, mem + ea, n);                                                            \
  break
  case SIMD_V128_LOAD8_LANE: LDLANE(1);
  case SIMD_V128_LOAD16_LANE: LDLANE(2);
  case SIMD_V128_LOAD32_LANE: LDLANE(4);
  case SIMD_V128_LOAD64_LANE: LDLANE(8);
#define STLANE(n)                                                                                 \
  a = vget(fp, sb);                                                                               \
  ADDR(n);                                                                                        \
  memcpy(mem + ea, a.u8 + (n) * y, n);                                                            \
  return words
  case SIMD_V128_STORE8_LANE: STLANE(1);
  case SIMD_V128_STORE16_LANE: STLANE(2);
  case SIMD_V128_STORE32_LANE: STLANE(4);
  case SIMD_V128_STORE64_LANE: STLANE(8);
  // ---- constants, shuffles, lanes
  case SIMD_V128_CONST: memcpy(&r, ip + 7, 16); words = SIMD_WORDS_DATA; break;
  case SIMD_I8X16_SHUFFLE: {
    uint8_t idx[16], cat[32];
    memcpy(idx, ip + 7, 16);
    a = vget(fp, sa); b = vget(fp, sb);
    memcpy(cat, &a, 16); memcpy(cat + 16, &b, 16);
    words = SIMD_WORDS_DATA;
    MAP1(u8, 16, cat[idx[i] & 31]);
  }
  case SIMD_I8X16_SWIZZLE: a = vget(fp, sa); b = vget(fp, sb); MAP2(u8, 16, b.u8[i] < 16 ? a.u8[b.u8[i]] : 0);
  case SIMD_I8X16_SPLAT: MAP1(u8, 16, (uint8_t)fp[sa]);
  case SIMD_I16X8_SPLAT: MAP1(u16, 8, (uint16_t)fp[sa]);
  case SIMD_I32X4_SPLAT: case SIMD_F32X4_SPLAT: MAP1(u32, 4, (uint32_t)fp[sa]);
  case SIMD_I64X2_SPLAT: case SIMD_F64X2_SPLAT: MAP1(u64, 2, fp[sa]);
  case SIMD_I8X16_EXTRACT_LANE_S: a = vget(fp, sa); fp[dst] = (uint32_t)(int32_t)a.i8[x]; return words;
  case SIMD_I8X16_EXTRACT_LANE_U: a = vget(fp, sa); fp[dst] = a.u8[x]; return words;
  case SIMD_I16X8_EXTRACT_LANE_S: a = vget(fp, sa); fp[dst] = (uint32_t)(int32_t)a.i16[x]; return words;
  case SIMD_I16X8_EXTRACT_LANE_U: a = vget(fp, sa); fp[dst] = a.u16[x]; return words;
  case SIMD_I32X4_EXTRACT_LANE: case SIMD_F32X4_EXTRACT_LANE: a = vget(fp, sa); fp[dst] = a.u32[x]; return words;
  case SIMD_I64X2_EXTRACT_LANE: case SIMD_F64X2_EXTRACT_LANE: a = vget(fp, sa); fp[dst] = a.u64[x]; return words;
  case SIMD_I8X16_REPLACE_LANE: r = vget(fp, sa); r.u8[x] = (uint8_t)fp[sb]; break;
  case SIMD_I16X8_REPLACE_LANE: r = vget(fp, sa); r.u16[x] = (uint16_t)fp[sb]; break;
  case SIMD_I32X4_REPLACE_LANE: case SIMD_F32X4_REPLACE_LANE: r = vget(fp, sa); r.u32[x] = (uint32_t)fp[sb]; break;
  case SIMD_I64X2_REPLACE_LANE: case SIMD_F64X2_REPLACE_LANE: r = vget(fp, sa); r.u64[x] = fp[sb]; break;
  default: goto arith;
  }
  vput(fp, dst, &r);
  return words;

arith:
  a = vget(fp, sa);
  b = vget(fp, sb);
  switch ((enum simd_op)sub) {
  // ---- comparisons
  case SIMD_I8X16_EQ: CMP(u8, u8, 16, a.u8[i] == b.u8[i]);
  case SIMD_I8X16_NE: CMP(u8, u8, 16, a.u8[i] != b.u8[i]);
  case SIMD_I8X16_LT_S: CMP(i8, u8, 16, a.i8[i] < b.i8[i]);
  case SIMD_I8X16_LT_U: CMP(u8, u8, 16, a.u8[i] < b.u8[i]);
  case SIMD_I8X16_GT_S: CMP(i8, u8, 16, a.i8[i] > b.i8[i]);
  case SIMD_I8X16_GT_U: CMP(u8, u8, 16, a.u8[i] > b.u8[i]);
  case SIMD_I8X16_LE_S: CMP(i8, u8, 16, a.i8[i] <= b.i8[i]);
  case SIMD_I8X16_LE_U: CMP(u8, u8, 16, a.u8[i] <= b.u8[i]);
  case SIMD_I8X16_GE_S: CMP(i8, u8, 16, a.i8[i] >= b.i8[i]);
  case SIMD_I8X16_GE_U: CMP(u8, u8, 16, a.u8[i] >= b.u8[i]);
  case SIMD_I16X8_EQ: CMP(u16, u16, 8, a.u16[i] == b.u16[i]);
  case SIMD_I16X8_NE: CMP(u16, u16, 8, a.u16[i] != b.u16[i]);
  case SIMD_I16X8_LT_S: CMP(i16, u16, 8, a.i16[i] < b.i16[i]);
  case SIMD_I16X8_LT_U: CMP(u16, u16, 8, a.u16[i] < b.u16[i]);
  case SIMD_I16X8_GT_S: CMP(i16, u16, 8, a.i16[i] > b.i16[i]);
  case SIMD_I16X8_GT_U: CMP(u16, u16, 8, a.u16[i] > b.u16[i]);
  case SIMD_I16X8_LE_S: CMP(i16, u16, 8, a.i16[i] <= b.i16[i]);
  case SIMD_I16X8_LE_U: CMP(u16, u16, 8, a.u16[i] <= b.u16[i]);
  case SIMD_I16X8_GE_S: CMP(i16, u16, 8, a.i16[i] >= b.i16[i]);
  case SIMD_I16X8_GE_U: CMP(u16, u16, 8, a.u16[i] >= b.u16[i]);
  case SIMD_I32X4_EQ: CMP(u32, u32, 4, a.u32[i] == b.u32[i]);
  case SIMD_I32X4_NE: CMP(u32, u32, 4, a.u32[i] != b.u32[i]);
  case SIMD_I32X4_LT_S: CMP(i32, u32, 4, a.i32[i] < b.i32[i]);
  case SIMD_I32X4_LT_U: CMP(u32, u32, 4, a.u32[i] < b.u32[i]);
  case SIMD_I32X4_GT_S: CMP(i32, u32, 4, a.i32[i] > b.i32[i]);
  case SIMD_I32X4_GT_U: CMP(u32, u32, 4, a.u32[i] > b.u32[i]);
  case SIMD_I32X4_LE_S: CMP(i32, u32, 4, a.i32[i] <= b.i32[i]);
  case SIMD_I32X4_LE_U: CMP(u32, u32, 4, a.u32[i] <= b.u32[i]);
  case SIMD_I32X4_GE_S: CMP(i32, u32, 4, a.i32[i] >= b.i32[i]);
  case SIMD_I32X4_GE_U: CMP(u32, u32, 4, a.u32[i] >= b.u32[i]);
  case SIMD_I64X2_EQ: CMP(u64, u64, 2, a.u64[i] == b.u64[i]);
  case SIMD_I64X2_NE: CMP(u64, u64, 2, a.u64[i] != b.u64[i]);
  case SIMD_I64X2_LT_S: CMP(i64, u64, 2, a.i64[i] < b.i64[i]);
  case SIMD_I64X2_GT_S: CMP(i64, u64, 2, a.i64[i] > b.i64[i]);
  case SIMD_I64X2_LE_S: CMP(i64, u64, 2, a.i64[i] <= b.i64[i]);
  case SIMD_I64X2_GE_S: CMP(i64, u64, 2, a.i64[i] >= b.i64[i]);
  case SIMD_F32X4_EQ: CMP(f32, u32, 4, a.f32[i] == b.f32[i]);
  case SIMD_F32X4_NE: CMP(f32, u32, 4, a.f32[i] != b.f32[i]);
  case SIMD_F32X4_LT: CMP(f32, u32, 4, a.f32[i] < b.f32[i]);
  case SIMD_F32X4_GT: CMP(f32, u32, 4, a.f32[i] > b.f32[i]);
  case SIMD_F32X4_LE: CMP(f32, u32, 4, a.f32[i] <= b.f32[i]);
  case SIMD_F32X4_GE: CMP(f32, u32, 4, a.f32[i] >= b.f32[i]);
  case SIMD_F64X2_EQ: CMP(f64, u64, 2, a.f64[i] == b.f64[i]);
  case SIMD_F64X2_NE: CMP(f64, u64, 2, a.f64[i] != b.f64[i]);
  case SIMD_F64X2_LT: CMP(f64, u64, 2, a.f64[i] < b.f64[i]);
  case SIMD_F64X2_GT: CMP(f64, u64, 2, a.f64[i] > b.f64[i]);
  case SIMD_F64X2_LE: CMP(f64, u64, 2, a.f64[i] <= b.f64[i]);
  case SIMD_F64X2_GE: CMP(f64, u64, 2, a.f64[i] >= b.f64[i]);
  // ---- bitwise
  case SIMD_V128_NOT: MAP1(u64, 2, ~a.u64[i]);
  case SIMD_V128_AND: MAP2(u64, 2, a.u64[i] & b.u64[i]);
  case SIMD_V128_ANDNOT: MAP2(u64, 2, a.u64[i] & ~b.u64[i]);
  case SIMD_V128_OR: MAP2(u64, 2, a.u64[i] | b.u64[i]);
  case SIMD_V128_XOR: MAP2(u64, 2, a.u64[i] ^ b.u64[i]);
  case SIMD_V128_BITSELECT: {
    v128 m = vget(fp, sc);
    MAP2(u64, 2, (a.u64[i] & m.u64[i]) | (b.u64[i] & ~m.u64[i]));
  }
  // ---- tests (i32 result)
  case SIMD_V128_ANY_TRUE: fp[dst] = (a.u64[0] | a.u64[1]) != 0; return words;
  case SIMD_I8X16_ALL_TRUE: { uint32_t t = 1; for (int i = 0; i < 16; i++) t &= a.u8[i] != 0; fp[dst] = t; return words; }
  case SIMD_I16X8_ALL_TRUE: { uint32_t t = 1; for (int i = 0; i < 8; i++) t &= a.u16[i] != 0; fp[dst] = t; return words; }
  case SIMD_I32X4_ALL_TRUE: { uint32_t t = 1; for (int i = 0; i < 4; i++) t &= a.u32[i] != 0; fp[dst] = t; return words; }
  case SIMD_I64X2_ALL_TRUE: { uint32_t t = 1; for (int i = 0; i < 2; i++) t &= a.u64[i] != 0; fp[dst] = t; return words; }
  case SIMD_I8X16_BITMASK: { uint32_t t = 0; for (int i = 0; i < 16; i++) t |= (uint32_t)(a.u8[i] >> 7) << i; fp[dst] = t; return words; }
  case SIMD_I16X8_BITMASK: { uint32_t t = 0; for (int i = 0; i < 8; i++) t |= (uint32_t)(a.u16[i] >> 15) << i; fp[dst] = t; return words; }
  case SIMD_I32X4_BITMASK: { uint32_t t = 0; for (int i = 0; i < 4; i++) t |= (a.u32[i] >> 31) << i; fp[dst] = t; return words; }
  case SIMD_I64X2_BITMASK: { uint32_t t = 0; for (int i = 0; i < 2; i++) t |= (uint32_t)(a.u64[i] >> 63) << i; fp[dst] = t; return words; }
  // ---- shifts (count from an i32 slot, modulo the lane width)
  case SIMD_I8X16_SHL: { uint32_t k = (uint32_t)fp[sb] & 7; MAP1(u8, 16, (uint8_t)(a.u8[i] << k)); }
  case SIMD_I8X16_SHR_S: { uint32_t k = (uint32_t)fp[sb] & 7; MAP1(i8, 16, (int8_t)(a.i8[i] >> k)); }
  case SIMD_I8X16_SHR_U: { uint32_t k = (uint32_t)fp[sb] & 7; MAP1(u8, 16, (uint8_t)(a.u8[i] >> k)); }
  case SIMD_I16X8_SHL: { uint32_t k = (uint32_t)fp[sb] & 15; MAP1(u16, 8, (uint16_t)(a.u16[i] << k)); }
  case SIMD_I16X8_SHR_S: { uint32_t k = (uint32_t)fp[sb] & 15; MAP1(i16, 8, (int16_t)(a.i16[i] >> k)); }
  case SIMD_I16X8_SHR_U: { uint32_t k = (uint32_t)fp[sb] & 15; MAP1(u16, 8, (uint16_t)(a.u16[i] >> k)); }
  case SIMD_I32X4_SHL: { uint32_t k = (uint32_t)fp[sb] & 31; MAP1(u32, 4, a.u32[i] << k); }
  case SIMD_I32X4_SHR_S: { uint32_t k = (uint32_t)fp[sb] & 31; MAP1(i32, 4, a.i32[i] >> k); }
  case SIMD_I32X4_SHR_U: { uint32_t k = (uint32_t)fp[sb] & 31; MAP1(u32, 4, a.u32[i] >> k); }
  case SIMD_I64X2_SHL: { uint32_t k = (uint32_t)fp[sb] & 63; MAP1(u64, 2, a.u64[i] << k); }
  case SIMD_I64X2_SHR_S: { uint32_t k = (uint32_t)fp[sb] & 63; MAP1(i64, 2, a.i64[i] >> k); }
  case SIMD_I64X2_SHR_U: { uint32_t k = (uint32_t)fp[sb] & 63; MAP1(u64, 2, a.u64[i] >> k); }
  // ---- integer arithmetic
  case SIMD_I8X16_ABS: MAP1(u8, 16, (uint8_t)(a.i8[i] < 0 ? -a.u8[i] : a.u8[i]));
  case SIMD_I8X16_NEG: MAP1(u8, 16, (uint8_t)-a.u8[i]);
  case SIMD_I8X16_POPCNT: MAP1(u8, 16, popcnt8(a.u8[i]));
  case SIMD_I8X16_ADD: MAP2(u8, 16, (uint8_t)(a.u8[i] + b.u8[i]));
  case SIMD_I8X16_SUB: MAP2(u8, 16, (uint8_t)(a.u8[i] - b.u8[i]));
  case SIMD_I8X16_ADD_SAT_S: MAP2(i8, 16, sat8(a.i8[i] + b.i8[i]));
  case SIMD_I8X16_ADD_SAT_U: MAP2(u8, 16, usat8(a.u8[i] + b.u8[i]));
  case SIMD_I8X16_SUB_SAT_S: MAP2(i8, 16, sat8(a.i8[i] - b.i8[i]));
  case SIMD_I8X16_SUB_SAT_U: MAP2(u8, 16, usat8(a.u8[i] - b.u8[i]));
  case SIMD_I8X16_MIN_S: MAP2(i8, 16, a.i8[i] < b.i8[i] ? a.i8[i] : b.i8[i]);
  case SIMD_I8X16_MIN_U: MAP2(u8, 16, a.u8[i] < b.u8[i] ? a.u8[i] : b.u8[i]);
  case SIMD_I8X16_MAX_S: MAP2(i8, 16, a.i8[i] > b.i8[i] ? a.i8[i] : b.i8[i]);
  case SIMD_I8X16_MAX_U: MAP2(u8, 16, a.u8[i] > b.u8[i] ? a.u8[i] : b.u8[i]);
  case SIMD_I8X16_AVGR_U: MAP2(u8, 16, (uint8_t)((a.u8[i] + b.u8[i] + 1) >> 1));
  case SIMD_I8X16_NARROW_I16X8_S: MAP2(i8, 16, sat8(i < 8 ? a.i16[i] : b.i16[i - 8]));
  case SIMD_I8X16_NARROW_I16X8_U: MAP2(u8, 16, usat8(i < 8 ? a.i16[i] : b.i16[i - 8]));
  case SIMD_I16X8_ABS: MAP1(u16, 8, (uint16_t)(a.i16[i] < 0 ? -a.u16[i] : a.u16[i]));
  case SIMD_I16X8_NEG: MAP1(u16, 8, (uint16_t)-a.u16[i]);
  case SIMD_I16X8_ADD: MAP2(u16, 8, (uint16_t)(a.u16[i] + b.u16[i]));
  case SIMD_I16X8_SUB: MAP2(u16, 8, (uint16_t)(a.u16[i] - b.u16[i]));
  case SIMD_I16X8_MUL: MAP2(u16, 8, (uint16_t)((uint32_t)a.u16[i] * b.u16[i]));
  case SIMD_I16X8_ADD_SAT_S: MAP2(i16, 8, sat16(a.i16[i] + b.i16[i]));
  case SIMD_I16X8_ADD_SAT_U: MAP2(u16, 8, usat16(a.u16[i] + b.u16[i]));
  case SIMD_I16X8_SUB_SAT_S: MAP2(i16, 8, sat16(a.i16[i] - b.i16[i]));
  case SIMD_I16X8_SUB_SAT_U: MAP2(u16, 8, usat16(a.u16[i] - b.u16[i]));
  case SIMD_I16X8_MIN_S: MAP2(i16, 8, a.i16[i] < b.i16[i] ? a.i16[i] : b.i16[i]);
  case SIMD_I16X8_MIN_U: MAP2(u16, 8, a.u16[i] < b.u16[i] ? a.u16[i] : b.u16[i]);
  case SIMD_I16X8_MAX_S: MAP2(i16, 8, a.i16[i] > b.i16[i] ? a.i16[i] : b.i16[i]);
  case SIMD_I16X8_MAX_U: MAP2(u16, 8, a.u16[i] > b.u16[i] ? a.u16[i] : b.u16[i]);
  case SIMD_I16X8_AVGR_U: MAP2(u16, 8, (uint16_t)((a.u16[i] + b.u16[i] + 1) >> 1));
  case SIMD_I16X8_Q15MULR_SAT_S: MAP2(i16, 8, sat16((a.i16[i] * b.i16[i] + 0x4000) >> 15));
  case SIMD_I16X8_NARROW_I32X4_S: MAP2(i16, 8, sat16(i < 4 ? a.i32[i] : b.i32[i - 4]));
  case SIMD_I16X8_NARROW_I32X4_U: MAP2(u16, 8, usat16(i < 4 ? a.i32[i] : b.i32[i - 4]));
  case SIMD_I16X8_EXTEND_LOW_I8X16_S: MAP1(i16, 8, a.i8[i]);
  case SIMD_I16X8_EXTEND_HIGH_I8X16_S: MAP1(i16, 8, a.i8[i + 8]);
  case SIMD_I16X8_EXTEND_LOW_I8X16_U: MAP1(u16, 8, a.u8[i]);
  case SIMD_I16X8_EXTEND_HIGH_I8X16_U: MAP1(u16, 8, a.u8[i + 8]);
  case SIMD_I16X8_EXTADD_PAIRWISE_I8X16_S: MAP1(i16, 8, (int16_t)(a.i8[2 * i] + a.i8[2 * i + 1]));
  case SIMD_I16X8_EXTADD_PAIRWISE_I8X16_U: MAP1(u16, 8, (uint16_t)(a.u8[2 * i] + a.u8[2 * i + 1]));
  case SIMD_I16X8_EXTMUL_LOW_I8X16_S: MAP2(i16, 8, (int16_t)(a.i8[i] * b.i8[i]));
  case SIMD_I16X8_EXTMUL_HIGH_I8X16_S: MAP2(i16, 8, (int16_t)(a.i8[i + 8] * b.i8[i + 8]));
  case SIMD_I16X8_EXTMUL_LOW_I8X16_U: MAP2(u16, 8, (uint16_t)(a.u8[i] * b.u8[i]));
  case SIMD_I16X8_EXTMUL_HIGH_I8X16_U: MAP2(u16, 8, (uint16_t)(a.u8[i + 8] * b.u8[i + 8]));
  case SIMD_I32X4_ABS: MAP1(u32, 4, a.i32[i] < 0 ? 0u - a.u32[i] : a.u32[i]);
  case SIMD_I32X4_NEG: MAP1(u32, 4, 0u - a.u32[i]);
  case SIMD_I32X4_ADD: MAP2(u32, 4, a.u32[i] + b.u32[i]);
  case SIMD_I32X4_SUB: MAP2(u32, 4, a.u32[i] - b.u32[i]);
  case SIMD_I32X4_MUL: MAP2(u32, 4, a.u32[i] * b.u32[i]);
  case SIMD_I32X4_MIN_S: MAP2(i32, 4, a.i32[i] < b.i32[i] ? a.i32[i] : b.i32[i]);
  case SIMD_I32X4_MIN_U: MAP2(u32, 4, a.u32[i] < b.u32[i] ? a.u32[i] : b.u32[i]);
  case SIMD_I32X4_MAX_S: MAP2(i32, 4, a.i32[i] > b.i32[i] ? a.i32[i] : b.i32[i]);
  case SIMD_I32X4_MAX_U: MAP2(u32, 4, a.u32[i] > b.u32[i] ? a.u32[i] : b.u32[i]);
  case SIMD_I32X4_DOT_I16X8_S:
    MAP2(u32, 4, (uint32_t)((int32_t)a.i16[2 * i] * b.i16[2 * i]) + (uint32_t)((int32_t)a.i16[2 * i + 1] * b.i16[2 * i + 1]));
  case SIMD_I32X4_EXTEND_LOW_I16X8_S: MAP1(i32, 4, a.i16[i]);
  case SIMD_I32X4_EXTEND_HIGH_I16X8_S: MAP1(i32, 4, a.i16[i + 4]);
  case SIMD_I32X4_EXTEND_LOW_I16X8_U: MAP1(u32, 4, a.u16[i]);
  case SIMD_I32X4_EXTEND_HIGH_I16X8_U: MAP1(u32, 4, a.u16[i + 4]);
  case SIMD_I32X4_EXTADD_PAIRWISE_I16X8_S: MAP1(i32, 4, (int32_t)a.i16[2 * i] + a.i16[2 * i + 1]);
  case SIMD_I32X4_EXTADD_PAIRWISE_I16X8_U: MAP1(u32, 4, (uint32_t)a.u16[2 * i] + a.u16[2 * i + 1]);
  case SIMD_I32X4_EXTMUL_LOW_I16X8_S: MAP2(u32, 4, (uint32_t)((int32_t)a.i16[i] * b.i16[i]));
  case SIMD_I32X4_EXTMUL_HIGH_I16X8_S: MAP2(u32, 4, (uint32_t)((int32_t)a.i16[i + 4] * b.i16[i + 4]));
  case SIMD_I32X4_EXTMUL_LOW_I16X8_U: MAP2(u32, 4, (uint32_t)a.u16[i] * b.u16[i]);
  case SIMD_I32X4_EXTMUL_HIGH_I16X8_U: MAP2(u32, 4, (uint32_t)a.u16[i + 4] * b.u16[i + 4]);
  case SIMD_I64X2_ABS: MAP1(u64, 2, a.i64[i] < 0 ? 0u - a.u64[i] : a.u64[i]);
  case SIMD_I64X2_NEG: MAP1(u64, 2, 0u - a.u64[i]);
  case SIMD_I64X2_ADD: MAP2(u64, 2, a.u64[i] + b.u64[i]);
  case SIMD_I64X2_SUB: MAP2(u64, 2, a.u64[i] - b.u64[i]);
  case SIMD_I64X2_MUL: MAP2(u64, 2, a.u64[i] * b.u64[i]);
  case SIMD_I64X2_EXTMUL_LOW_I32X4_S: MAP2(u64, 2, (uint64_t)((int64_t)a.i32[i] * b.i32[i]));
  case SIMD_I64X2_EXTMUL_HIGH_I32X4_S: MAP2(u64, 2, (uint64_t)((int64_t)a.i32[i + 2] * b.i32[i + 2]));
  case SIMD_I64X2_EXTMUL_LOW_I32X4_U: MAP2(u64, 2, (uint64_t)a.u32[i] * b.u32[i]);
  case SIMD_I64X2_EXTMUL_HIGH_I32X4_U: MAP2(u64, 2, (uint64_t)a.u32[i + 2] * b.u32[i + 2]);
  case SIMD_I64X2_EXTEND_LOW_I32X4_S: MAP1(i64, 2, a.i32[i]);
  case SIMD_I64X2_EXTEND_HIGH_I32X4_S: MAP1(i64, 2, a.i32[i + 2]);
  case SIMD_I64X2_EXTEND_LOW_I32X4_U: MAP1(u64, 2, a.u32[i]);
  case SIMD_I64X2_EXTEND_HIGH_I32X4_U: MAP1(u64, 2, a.u32[i + 2]);
  // ---- floating point
  case SIMD_F32X4_ABS: MAP1(f32, 4, f32_abs(a.f32[i]));
  case SIMD_F32X4_NEG: MAP1(f32, 4, f32_neg(a.f32[i]));
  case SIMD_F32X4_SQRT: MAP1(f32, 4, __builtin_sqrtf(a.f32[i]));
  case SIMD_F32X4_CEIL: MAP1(f32, 4, f32_ceil(a.f32[i]));
  case SIMD_F32X4_FLOOR: MAP1(f32, 4, f32_floor(a.f32[i]));
  case SIMD_F32X4_TRUNC: MAP1(f32, 4, f32_trunc(a.f32[i]));
  case SIMD_F32X4_NEAREST: MAP1(f32, 4, f32_nearest(a.f32[i]));
  case SIMD_F32X4_ADD: MAP2(f32, 4, a.f32[i] + b.f32[i]);
  case SIMD_F32X4_SUB: MAP2(f32, 4, a.f32[i] - b.f32[i]);
  case SIMD_F32X4_MUL: MAP2(f32, 4, a.f32[i] * b.f32[i]);
  case SIMD_F32X4_DIV: MAP2(f32, 4, a.f32[i] / b.f32[i]);
  case SIMD_F32X4_MIN: MAP2(f32, 4, f32_min(a.f32[i], b.f32[i]));
  case SIMD_F32X4_MAX: MAP2(f32, 4, f32_max(a.f32[i], b.f32[i]));
  case SIMD_F32X4_PMIN: MAP2(f32, 4, f32_pmin(a.f32[i], b.f32[i]));
  case SIMD_F32X4_PMAX: MAP2(f32, 4, f32_pmax(a.f32[i], b.f32[i]));
  case SIMD_F64X2_ABS: MAP1(f64, 2, f64_abs(a.f64[i]));
  case SIMD_F64X2_NEG: MAP1(f64, 2, f64_neg(a.f64[i]));
  case SIMD_F64X2_SQRT: MAP1(f64, 2, __builtin_sqrt(a.f64[i]));
  case SIMD_F64X2_CEIL: MAP1(f64, 2, f64_ceil(a.f64[i]));
  case SIMD_F64X2_FLOOR: MAP1(f64, 2, f64_floor(a.f64[i]));
  case SIMD_F64X2_TRUNC: MAP1(f64, 2, f64_trunc(a.f64[i]));
  case SIMD_F64X2_NEAREST: MAP1(f64, 2, f64_nearest(a.f64[i]));
  case SIMD_F64X2_ADD: MAP2(f64, 2, a.f64[i] + b.f64[i]);
  case SIMD_F64X2_SUB: MAP2(f64, 2, a.f64[i] - b.f64[i]);
  case SIMD_F64X2_MUL: MAP2(f64, 2, a.f64[i] * b.f64[i]);
  case SIMD_F64X2_DIV: MAP2(f64, 2, a.f64[i] / b.f64[i]);
  case SIMD_F64X2_MIN: MAP2(f64, 2, f64_min(a.f64[i], b.f64[i]));
  case SIMD_F64X2_MAX: MAP2(f64, 2, f64_max(a.f64[i], b.f64[i]));
  case SIMD_F64X2_PMIN: MAP2(f64, 2, f64_pmin(a.f64[i], b.f64[i]));
  case SIMD_F64X2_PMAX: MAP2(f64, 2, f64_pmax(a.f64[i], b.f64[i]));
  // ---- conversions
  case SIMD_I32X4_TRUNC_SAT_F32X4_S: MAP1(u32, 4, sat_i32_f32_s(a.f32[i]));
  case SIMD_I32X4_TRUNC_SAT_F32X4_U: MAP1(u32, 4, sat_i32_f32_u(a.f32[i]));
  case SIMD_F32X4_CONVERT_I32X4_S: MAP1(f32, 4, (float)a.i32[i]);
  case SIMD_F32X4_CONVERT_I32X4_U: MAP1(f32, 4, (float)a.u32[i]);
  case SIMD_I32X4_TRUNC_SAT_F64X2_S_ZERO: MAP1(u32, 2, sat_i32_f64_s(a.f64[i]));
  case SIMD_I32X4_TRUNC_SAT_F64X2_U_ZERO: MAP1(u32, 2, sat_i32_f64_u(a.f64[i]));
  case SIMD_F64X2_CONVERT_LOW_I32X4_S: MAP1(f64, 2, (double)a.i32[i]);
  case SIMD_F64X2_CONVERT_LOW_I32X4_U: MAP1(f64, 2, (double)a.u32[i]);
  case SIMD_F32X4_DEMOTE_F64X2_ZERO: MAP1(f32, 2, (float)a.f64[i]);
  case SIMD_F64X2_PROMOTE_LOW_F32X4: MAP1(f64, 2, (double)a.f32[i]);
  // ---- relaxed SIMD: one deterministic choice among the results the spec allows, the same in
  // both tiers (compiled code calls this function too). Mostly the non-relaxed instruction:
  // swizzle (an index >= 16 gives 0), saturating truncation (NaN -> 0), unfused multiply-add
  // (two roundings, as f32x4.mul then f32x4.add), bitselect, min/max (NaN and -0 < +0 rules),
  // q15mulr_sat_s. The dot products read b as signed (like a) and saturate each pair's sum to
  // i16 (as x86 pmaddubsw); the add variant then adds the two i16 sums of each i32 lane and c.
  case SIMD_I8X16_RELAXED_SWIZZLE: MAP2(u8, 16, b.u8[i] < 16 ? a.u8[b.u8[i]] : 0);
  case SIMD_I32X4_RELAXED_TRUNC_F32X4_S: MAP1(u32, 4, sat_i32_f32_s(a.f32[i]));
  case SIMD_I32X4_RELAXED_TRUNC_F32X4_U: MAP1(u32, 4, sat_i32_f32_u(a.f32[i]));
  case SIMD_I32X4_RELAXED_TRUNC_F64X2_S_ZERO: MAP1(u32, 2, sat_i32_f64_s(a.f64[i]));
  case SIMD_I32X4_RELAXED_TRUNC_F64X2_U_ZERO: MAP1(u32, 2, sat_i32_f64_u(a.f64[i]));
  case SIMD_F32X4_RELAXED_MADD: { v128 c = vget(fp, sc); MAP2(f32, 4, relaxed_f32(a.f32[i] * b.f32[i]) + c.f32[i]); }
  case SIMD_F32X4_RELAXED_NMADD: { v128 c = vget(fp, sc); MAP2(f32, 4, f32_neg(relaxed_f32(a.f32[i] * b.f32[i])) + c.f32[i]); }
  case SIMD_F64X2_RELAXED_MADD: { v128 c = vget(fp, sc); MAP2(f64, 2, relaxed_f64(a.f64[i] * b.f64[i]) + c.f64[i]); }
  case SIMD_F64X2_RELAXED_NMADD: { v128 c = vget(fp, sc); MAP2(f64, 2, f64_neg(relaxed_f64(a.f64[i] * b.f64[i])) + c.f64[i]); }
  case SIMD_I8X16_RELAXED_LANESELECT: case SIMD_I16X8_RELAXED_LANESELECT:
  case SIMD_I32X4_RELAXED_LANESELECT: case SIMD_I64X2_RELAXED_LANESELECT: {
    v128 m = vget(fp, sc);
    MAP2(u64, 2, (a.u64[i] & m.u64[i]) | (b.u64[i] & ~m.u64[i]));
  }
  case SIMD_F32X4_RELAXED_MIN: MAP2(f32, 4, f32_min(a.f32[i], b.f32[i]));
  case SIMD_F32X4_RELAXED_MAX: MAP2(f32, 4, f32_max(a.f32[i], b.f32[i]));
  case SIMD_F64X2_RELAXED_MIN: MAP2(f64, 2, f64_min(a.f64[i], b.f64[i]));
  case SIMD_F64X2_RELAXED_MAX: MAP2(f64, 2, f64_max(a.f64[i], b.f64[i]));
  case SIMD_I16X8_RELAXED_Q15MULR_S: MAP2(i16, 8, sat16((a.i16[i] * b.i16[i] + 0x4000) >> 15));
  case SIMD_I16X8_RELAXED_DOT_I8X16_I7X16_S: MAP2(i16, 8, dot_i8_pair(&a, &b, i));
  case SIMD_I32X4_RELAXED_DOT_I8X16_I7X16_ADD_S: {
    v128 c = vget(fp, sc);
    MAP2(u32, 4, (uint32_t)((int32_t)dot_i8_pair(&a, &b, 2 * i) + dot_i8_pair(&a, &b, 2 * i + 1)) + c.u32[i]);
  }
  // ---- internal
  case SIMD_V128_COPY: r = a; break;
  case SIMD_V128_SELECT: r = (uint32_t)fp[sc] ? a : b; break;
  case SIMD_V128_GLOBAL_GET: {
    const eng_global *g = inst->globals[x];
    r.u64[0] = g->val;
    r.u64[1] = g->val_hi;
    break;
  }
  case SIMD_V128_GLOBAL_SET: {
    eng_global *g = inst->globals[x];
    g->val = a.u64[0];
    g->val_hi = a.u64[1];
    return words;
  }
  // handled in the first switch
  case SIMD_V128_LOAD: case SIMD_V128_LOAD8X8_S: case SIMD_V128_LOAD8X8_U: case SIMD_V128_LOAD16X4_S:
  case SIMD_V128_LOAD16X4_U: case SIMD_V128_LOAD32X2_S: case SIMD_V128_LOAD32X2_U:
  case SIMD_V128_LOAD8_SPLAT: case SIMD_V128_LOAD16_SPLAT: case SIMD_V128_LOAD32_SPLAT:
  case SIMD_V128_LOAD64_SPLAT: case SIMD_V128_LOAD32_ZERO: case SIMD_V128_LOAD64_ZERO:
  case SIMD_V128_STORE: case SIMD_V128_LOAD8_LANE: case SIMD_V128_LOAD16_LANE:
  case SIMD_V128_LOAD32_LANE: case SIMD_V128_LOAD64_LANE: case SIMD_V128_STORE8_LANE:
  case SIMD_V128_STORE16_LANE: case SIMD_V128_STORE32_LANE: case SIMD_V128_STORE64_LANE:
  case SIMD_V128_CONST: case SIMD_I8X16_SHUFFLE: case SIMD_I8X16_SWIZZLE: case SIMD_I8X16_SPLAT:
  case SIMD_I16X8_SPLAT: case SIMD_I32X4_SPLAT: case SIMD_I64X2_SPLAT: case SIMD_F32X4_SPLAT:
  case SIMD_F64X2_SPLAT: case SIMD_I8X16_EXTRACT_LANE_S: case SIMD_I8X16_EXTRACT_LANE_U:
  case SIMD_I8X16_REPLACE_LANE: case SIMD_I16X8_EXTRACT_LANE_S: case SIMD_I16X8_EXTRACT_LANE_U:
  case SIMD_I16X8_REPLACE_LANE: case SIMD_I32X4_EXTRACT_LANE: case SIMD_I32X4_REPLACE_LANE:
  case SIMD_I64X2_EXTRACT_LANE: case SIMD_I64X2_REPLACE_LANE: case SIMD_F32X4_EXTRACT_LANE:
  case SIMD_F32X4_REPLACE_LANE: case SIMD_F64X2_EXTRACT_LANE: case SIMD_F64X2_REPLACE_LANE:
    break;
  }
  vput(fp, dst, &r);
  return words;
}
