// simd.c — a 128-bit SIMD kernel (built with -msimd128; clang's vector extensions, so the same
// C also builds natively for kernels/native_check.sh). Three parts, each a common SIMD shape:
//   * Mandelbrot on f32x4 (mul/add/sub, compares as lane masks, any_true exits, i32x4 counts),
//   * an i32x4 xorshift-and-shuffle hash over memory (v128 loads, shifts, xor, lane shuffles,
//     i16x8 / i8x16 adds),
//   * an f64x2 dot product (v128 loads, mul, add).
// run(n) repeats them n times and returns a checksum of every lane's bits.
#include "rt.h"

typedef float f32x4 __attribute__((vector_size(16)));
typedef int i32x4 __attribute__((vector_size(16)));
typedef unsigned u32x4 __attribute__((vector_size(16)));
typedef short i16x8 __attribute__((vector_size(16)));
typedef signed char i8x16 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));

static int any_true(i32x4 m) {
#ifdef __wasm__
  return __builtin_wasm_any_true_v128((i8x16)m);
#else
  return (m[0] | m[1] | m[2] | m[3]) != 0;
#endif
}

static u64 mix_v(u64 h, i32x4 v) {
  for (int k = 0; k < 4; k++) h = mix64(h, (u32)v[k]);
  return h;
}

// Escape counts of a 64x32 grid, 4 pixels at a time, at most 48 iterations.
static u64 mandel(u64 h, u32 rep) {
  const int W = 64, H = 32, ITER = 48;
  for (int y = 0; y < H; y++) {
    float ci0 = -1.25f + 2.5f * (float)(y + (int)(rep & 3)) / (float)H;
    for (int x = 0; x < W; x += 4) {
      f32x4 cr = {(float)x, (float)(x + 1), (float)(x + 2), (float)(x + 3)};
      cr = cr * (3.0f / (float)W) - 2.0f;
      f32x4 ci = {ci0, ci0, ci0, ci0};
      f32x4 zr = cr, zi = ci;
      i32x4 count = {0, 0, 0, 0};
      for (int k = 0; k < ITER; k++) {
        f32x4 zr2 = zr * zr, zi2 = zi * zi;
        i32x4 in = (i32x4)(zr2 + zi2 <= 4.0f);
        if (!any_true(in)) break;
        count -= in;
        f32x4 t = zr * zi;
        zi = t + t + ci;
        zr = zr2 - zi2 + cr;
      }
      h = mix_v(h, count);
    }
  }
  return h;
}

// xorshift lanes over a buffer of 16-byte words, lanes rotated by a shuffle each step.
static u64 lanes(u64 h, const i32x4 *buf, u32 nwords) {
  u32x4 s = {0x9e3779b9u, 0x7f4a7c15u, 0x85ebca6bu, 0xc2b2ae35u};
  i16x8 acc16 = {0, 0, 0, 0, 0, 0, 0, 0};
  i8x16 acc8 = {0};
  for (u32 i = 0; i < nwords; i++) {
    i32x4 d = buf[i];
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    s += (u32x4)d;
    s = __builtin_shufflevector(s, s, 1, 2, 3, 0);
    acc16 += (i16x8)d;
    acc8 ^= (i8x16)s + (i8x16)d;
  }
  h = mix_v(h, (i32x4)s);
  h = mix_v(h, (i32x4)acc16);
  return mix_v(h, (i32x4)acc8);
}

static u64 dot(u64 h, const f64x2 *a, const f64x2 *b, u32 n) {
  f64x2 s0 = {0, 0}, s1 = {0, 0};
  for (u32 i = 0; i + 1 < n; i += 2) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
  }
  f64x2 s = s0 + s1;
  h = mix64(h, __builtin_bit_cast(u64, s[0]));
  return mix64(h, __builtin_bit_cast(u64, s[1]));
}

EXPORT(run) u64 run(u32 n) {
  heap_reset();
  const u32 NW = 4096; // 64 KiB of data
  i32x4 *buf = heap_alloc(NW * 16);
  f64x2 *fa = heap_alloc(NW * 16), *fb = heap_alloc(NW * 16);
  lcg_seed(7);
  for (u32 i = 0; i < NW; i++) {
    buf[i] = (i32x4){(int)lcg_next(), (int)lcg_next(), (int)lcg_next(), (int)lcg_next()};
    fa[i] = (f64x2){(double)(lcg_next() >> 8) / 16777216.0, (double)(lcg_next() >> 8) / 16777216.0};
    fb[i] = (f64x2){(double)(lcg_next() >> 8) / 16777216.0 - 0.5, (double)(lcg_next() >> 8) / 16777216.0};
  }
  u64 h = 0xcbf29ce484222325ull;
  for (u32 r = 0; r < n; r++) {
    h = mandel(h, r);
    h = lanes(h, buf, NW);
    h = dot(h, fa, fb, NW);
  }
  return h;
}
