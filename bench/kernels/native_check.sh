#!/bin/sh
# native_check.sh — compiles each kernel natively (x86-64/arm64, same C) and prints run()'s
# checksum for the parameters bench_test.go uses, plus the native time: an engine-independent
# check of the expected checksums in bench_test.go and a native baseline for the benchmarks.
# Usage: bench/kernels/native_check.sh   (needs clang-19 and a libc for the driver's printf)
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # kernel call
  cat >"$tmp/driver.c" <<EOC
#include "$PWD/$1.c"
#include <stdio.h>
#include <time.h>
int main(void) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  unsigned long long r = (unsigned long long)($2);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%-7s %-20s = %#llx  (%.1f ms native)\n", "$1", "$2", r,
         (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
  return 0;
}
EOC
  clang-19 -O2 -fno-builtin -o "$tmp/k" "$tmp/driver.c" -lm && "$tmp/k"
}
check fib 'run(20)'
check fib 'run(30)'
check sha256 'selftest()'
check sha256 'run(1)'
check sha256 'run(16)'
check nbody 'run(1000)'
check nbody 'run(200000)'
check qsort 'run(10000, 1)'
check qsort 'run(1000000, 1)'
check gemm 'run(32)'
check gemm 'run(256)'
check simd 'run(2)'
check simd 'run(500)'
