// numeric.h — portable numeric helpers (no libm, no SSE4.1): rounding, min/max, sign ops,
// saturating truncation. All static inline; exact per the WebAssembly spec.
#ifndef HL_ENGINE_NUMERIC_H
#define HL_ENGINE_NUMERIC_H

#include <stdint.h>


static inline uint32_t f32_bits(float f) { uint32_t u; __builtin_memcpy(&u, &f, 4); return u; }
static inline uint64_t f64_bits(double f) { uint64_t u; __builtin_memcpy(&u, &f, 8); return u; }
static inline float f32_from(uint32_t u) { float f; __builtin_memcpy(&f, &u, 4); return f; }
static inline double f64_from(uint64_t u) { double f; __builtin_memcpy(&f, &u, 8); return f; }

// Portable popcount: __builtin_popcount* becomes a libgcc call (__popcountdi2) on baseline x86-64.
static inline uint64_t popcnt64(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return (x * 0x0101010101010101ull) >> 56;
}
static inline uint32_t popcnt32(uint32_t x) { return (uint32_t)popcnt64(x); }

// Branch-free forms (no shift by the full width: b = 0 gives a | a): compilers emit one rol/ror.
static inline uint32_t rotl32(uint32_t a, uint32_t b) { return (a << (b & 31)) | (a >> ((32 - b) & 31)); }
static inline uint32_t rotr32(uint32_t a, uint32_t b) { return (a >> (b & 31)) | (a << ((32 - b) & 31)); }
static inline uint64_t rotl64(uint64_t a, uint64_t b) { return (a << (b & 63)) | (a >> ((64 - b) & 63)); }
static inline uint64_t rotr64(uint64_t a, uint64_t b) { return (a >> (b & 63)) | (a << ((64 - b) & 63)); }

static inline float f32_abs(float a) { return f32_from(f32_bits(a) & 0x7fffffffu); }
static inline float f32_neg(float a) { return f32_from(f32_bits(a) ^ 0x80000000u); }
static inline float f32_copysign(float a, float b) {
  return f32_from((f32_bits(a) & 0x7fffffffu) | (f32_bits(b) & 0x80000000u));
}
static inline double f64_abs(double a) { return f64_from(f64_bits(a) & 0x7fffffffffffffffull); }
static inline double f64_neg(double a) { return f64_from(f64_bits(a) ^ 0x8000000000000000ull); }
static inline double f64_copysign(double a, double b) {
  return f64_from((f64_bits(a) & 0x7fffffffffffffffull) | (f64_bits(b) & 0x8000000000000000ull));
}

// NaN inputs give an arithmetic NaN (quiet bit set, payload kept).
static inline float f32_min(float a, float b) {
  if (a != a || b != b) return a + b;
  if (a == b) return f32_from(f32_bits(a) | f32_bits(b)); // -0 < +0
  return a < b ? a : b;
}
static inline float f32_max(float a, float b) {
  if (a != a || b != b) return a + b;
  if (a == b) return f32_from(f32_bits(a) & f32_bits(b));
  return a > b ? a : b;
}
static inline double f64_min(double a, double b) {
  if (a != a || b != b) return a + b;
  if (a == b) return f64_from(f64_bits(a) | f64_bits(b));
  return a < b ? a : b;
}
static inline double f64_max(double a, double b) {
  if (a != a || b != b) return a + b;
  if (a == b) return f64_from(f64_bits(a) & f64_bits(b));
  return a > b ? a : b;
}

// Rounding. |x| >= 2^23 (f32) / 2^52 (f64), infinities and NaNs are already integral
// (NaNs get their quiet bit set). Otherwise the integer conversion is exact.
#define F32_BIG 8388608.0f
#define F64_BIG 4503599627370496.0

static inline int f32_is_int_already(float a) { return !(f32_abs(a) < F32_BIG); }
static inline int f64_is_int_already(double a) { return !(f64_abs(a) < F64_BIG); }
static inline float f32_quiet(float a) { return a != a ? f32_from(f32_bits(a) | 0x00400000u) : a; }
static inline double f64_quiet(double a) {
  return a != a ? f64_from(f64_bits(a) | 0x0008000000000000ull) : a;
}

static inline float f32_trunc(float a) {
  if (f32_is_int_already(a)) return f32_quiet(a);
  return f32_copysign((float)(int32_t)a, a);
}
static inline float f32_floor(float a) {
  if (f32_is_int_already(a)) return f32_quiet(a);
  float t = (float)(int32_t)a;
  if (t > a) t -= 1.0f;
  return f32_copysign(t, a);
}
static inline float f32_ceil(float a) {
  if (f32_is_int_already(a)) return f32_quiet(a);
  float t = (float)(int32_t)a;
  if (t < a) t += 1.0f;
  return f32_copysign(t, a);
}
static inline float f32_nearest(float a) {
  if (f32_is_int_already(a)) return f32_quiet(a);
  int32_t i = (int32_t)a;
  float d = a - (float)i; // exact
  if (d > 0.5f || (d == 0.5f && (i & 1))) i++;
  else if (d < -0.5f || (d == -0.5f && (i & 1))) i--;
  return f32_copysign((float)i, a);
}
static inline double f64_trunc(double a) {
  if (f64_is_int_already(a)) return f64_quiet(a);
  return f64_copysign((double)(int64_t)a, a);
}
static inline double f64_floor(double a) {
  if (f64_is_int_already(a)) return f64_quiet(a);
  double t = (double)(int64_t)a;
  if (t > a) t -= 1.0;
  return f64_copysign(t, a);
}
static inline double f64_ceil(double a) {
  if (f64_is_int_already(a)) return f64_quiet(a);
  double t = (double)(int64_t)a;
  if (t < a) t += 1.0;
  return f64_copysign(t, a);
}
static inline double f64_nearest(double a) {
  if (f64_is_int_already(a)) return f64_quiet(a);
  int64_t i = (int64_t)a;
  double d = a - (double)i;
  if (d > 0.5 || (d == 0.5 && (i & 1))) i++;
  else if (d < -0.5 || (d == -0.5 && (i & 1))) i--;
  return f64_copysign((double)i, a);
}

// Range checks for trapping truncation: true iff the truncated value is representable.
static inline int f32_fits_i32_s(float a) { return a > -2147483904.0f && a < 2147483648.0f; }
static inline int f32_fits_i32_u(float a) { return a > -1.0f && a < 4294967296.0f; }
static inline int f64_fits_i32_s(double a) { return a > -2147483649.0 && a < 2147483648.0; }
static inline int f64_fits_i32_u(double a) { return a > -1.0 && a < 4294967296.0; }
static inline int f32_fits_i64_s(float a) {
  return a >= -9223372036854775808.0f && a < 9223372036854775808.0f;
}
static inline int f32_fits_i64_u(float a) { return a > -1.0f && a < 18446744073709551616.0f; }
static inline int f64_fits_i64_s(double a) {
  return a >= -9223372036854775808.0 && a < 9223372036854775808.0;
}
static inline int f64_fits_i64_u(double a) { return a > -1.0 && a < 18446744073709551616.0; }

static inline uint32_t sat_i32_f32_s(float a) {
  if (a != a) return 0;
  if (!f32_fits_i32_s(a)) return a < 0 ? 0x80000000u : 0x7fffffffu;
  return (uint32_t)(int32_t)a;
}
static inline uint32_t sat_i32_f32_u(float a) {
  if (a != a) return 0;
  if (!f32_fits_i32_u(a)) return a < 0 ? 0u : 0xffffffffu;
  return (uint32_t)a;
}
static inline uint32_t sat_i32_f64_s(double a) {
  if (a != a) return 0;
  if (!f64_fits_i32_s(a)) return a < 0 ? 0x80000000u : 0x7fffffffu;
  return (uint32_t)(int32_t)a;
}
static inline uint32_t sat_i32_f64_u(double a) {
  if (a != a) return 0;
  if (!f64_fits_i32_u(a)) return a < 0 ? 0u : 0xffffffffu;
  return (uint32_t)a;
}
static inline uint64_t sat_i64_f32_s(float a) {
  if (a != a) return 0;
  if (!f32_fits_i64_s(a)) return a < 0 ? 0x8000000000000000ull : 0x7fffffffffffffffull;
  return (uint64_t)(int64_t)a;
}
static inline uint64_t sat_i64_f32_u(float a) {
  if (a != a) return 0;
  if (!f32_fits_i64_u(a)) return a < 0 ? 0ull : 0xffffffffffffffffull;
  return (uint64_t)a;
}
static inline uint64_t sat_i64_f64_s(double a) {
  if (a != a) return 0;
  if (!f64_fits_i64_s(a)) return a < 0 ? 0x8000000000000000ull : 0x7fffffffffffffffull;
  return (uint64_t)(int64_t)a;
}
static inline uint64_t sat_i64_f64_u(double a) {
  if (a != a) return 0;
  if (!f64_fits_i64_u(a)) return a < 0 ? 0ull : 0xffffffffffffffffull;
  return (uint64_t)a;
}

#endif
