// gemm.c — PolyBench/C 4.2 "gemm" kernel: C = alpha*A*B + beta*C on n x n doubles with
// PolyBench's init_array values. f64 multiply-add and strided memory access. run(n) returns a
// checksum of the raw bits of C.
#include "rt.h"

EXPORT(run) u64 run(u32 n) {
  heap_reset();
  usize nn = (usize)n * n;
  double *A = heap_alloc(nn * 8), *B = heap_alloc(nn * 8), *C = heap_alloc(nn * 8);
  double alpha = 1.5, beta = 1.2;
  for (u32 i = 0; i < n; i++)
    for (u32 j = 0; j < n; j++) {
      C[i * n + j] = (double)((i * j + 1) % n) / n;
      A[i * n + j] = (double)(i * (j + 1) % n) / n;
      B[i * n + j] = (double)(i * (j + 2) % n) / n;
    }
  // PolyBench's loop order (i, k, j): the inner loop is unit-stride.
  for (u32 i = 0; i < n; i++) {
    for (u32 j = 0; j < n; j++) C[i * n + j] *= beta;
    for (u32 k = 0; k < n; k++) {
      double a = alpha * A[i * n + k];
      for (u32 j = 0; j < n; j++) C[i * n + j] += a * B[k * n + j];
    }
  }
  u64 h = 0xcbf29ce484222325ull;
  for (usize i = 0; i < nn; i++) h = mix64(h, __builtin_bit_cast(u64, C[i]));
  return h;
}
