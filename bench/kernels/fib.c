// fib.c — naive doubly recursive Fibonacci: call overhead. run(30) = 832040.
#include "rt.h"

static u32 fib_rec(u32 n) { return n < 2 ? n : fib_rec(n - 1) + fib_rec(n - 2); }

EXPORT(fib) u32 fib(u32 n) { return fib_rec(n); }
EXPORT(run) u64 run(u32 n) { return fib_rec(n); }
