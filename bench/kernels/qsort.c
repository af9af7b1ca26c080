// qsort.c — quicksort (median of three, insertion sort for small ranges) of n LCG-generated
// 32-bit integers: branchy integer code and random memory access. run(n, seed) returns a
// checksum of the sorted array, or 0 if it is not sorted.
#include "rt.h"

static void insertion(u32 *a, long lo, long hi) {
  for (long i = lo + 1; i <= hi; i++) {
    u32 v = a[i];
    long j = i - 1;
    while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
    a[j + 1] = v;
  }
}

static void swap(u32 *a, long i, long j) { u32 t = a[i]; a[i] = a[j]; a[j] = t; }

static void quicksort(u32 *a, long lo, long hi) {
  while (hi - lo > 16) {
    long mid = lo + (hi - lo) / 2;
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    u32 pivot = a[mid];
    long i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) { swap(a, i, j); i++; j--; }
    }
    // Recurse into the smaller half, loop on the larger: O(log n) stack.
    if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
    else { quicksort(a, i, hi); hi = j; }
  }
  insertion(a, lo, hi);
}

EXPORT(run) u64 run(u32 n, u32 seed) {
  heap_reset();
  u32 *a = heap_alloc((usize)n * 4);
  lcg_seed(seed);
  for (u32 i = 0; i < n; i++) a[i] = lcg_next();
  if (n > 1) quicksort(a, 0, (long)n - 1);
  u64 h = 0xcbf29ce484222325ull;
  for (u32 i = 0; i < n; i++) {
    if (i > 0 && a[i - 1] > a[i]) return 0;
    h = mix64(h, a[i]);
  }
  return h;
}
