;; arith.wat — straightforward numeric exports with known results, for call/return plumbing:
;; every value type as parameter and result, multi-value returns, mutable global + memory
;; state that persists across calls on one instance, recursion.
;; Built by mk/testdata.mk: wat2wasm arith.wat -o arith.wasm
(module
  (memory (export "memory") 1 1)

  ;; i32
  (func (export "i32_add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "i32_sub") (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
  (func (export "i32_mul") (param i32 i32) (result i32) (i32.mul (local.get 0) (local.get 1)))
  ;; i64
  (func (export "i64_add") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func (export "i64_sub") (param i64 i64) (result i64) (i64.sub (local.get 0) (local.get 1)))
  (func (export "i64_mul") (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
  ;; f32
  (func (export "f32_add") (param f32 f32) (result f32) (f32.add (local.get 0) (local.get 1)))
  (func (export "f32_sub") (param f32 f32) (result f32) (f32.sub (local.get 0) (local.get 1)))
  (func (export "f32_mul") (param f32 f32) (result f32) (f32.mul (local.get 0) (local.get 1)))
  ;; f64
  (func (export "f64_add") (param f64 f64) (result f64) (f64.add (local.get 0) (local.get 1)))
  (func (export "f64_sub") (param f64 f64) (result f64) (f64.sub (local.get 0) (local.get 1)))
  (func (export "f64_mul") (param f64 f64) (result f64) (f64.mul (local.get 0) (local.get 1)))

  ;; Multi-value: divmod(a, b) = (a /u b, a %u b); traps (divide by zero) when b == 0.
  (func (export "divmod") (param i32 i32) (result i32 i32)
    (i32.div_u (local.get 0) (local.get 1))
    (i32.rem_u (local.get 0) (local.get 1)))

  ;; Multi-value with mixed types: swap(i64 a, f64 b) = (b, a).
  (func (export "swap") (param i64 f64) (result f64 i64)
    (local.get 1) (local.get 0))

  ;; Multi-value block inside a function: returns (x+1, x*2, x as i64 << 32).
  (func (export "triple") (param $x i32) (result i32 i32 i64)
    (block (result i32 i32 i64)
      (i32.add (local.get $x) (i32.const 1))
      (i32.mul (local.get $x) (i32.const 2))
      (i64.shl (i64.extend_i32_u (local.get $x)) (i64.const 32))))

  ;; Per-instance state: the global and memory[0..4) both start at 0 and are both incremented;
  ;; incr() returns the new global value (1, 2, 3, ... on one instance; 1 again on a fresh one).
  (global $counter (export "counter") (mut i32) (i32.const 0))
  (func (export "incr") (result i32)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (global.get $counter))
  ;; The memory cell incr() maintains; always equals the global.
  (func (export "cell") (result i32) (i32.load (i32.const 0)))

  ;; n! on i64 (wraps modulo 2^64 past 20!). fac_rec(20) = fac_iter(20) = 2432902008176640000.
  (func $fac_rec (export "fac_rec") (param $n i64) (result i64)
    (if (result i64) (i64.le_u (local.get $n) (i64.const 1))
      (then (i64.const 1))
      (else (i64.mul (local.get $n) (call $fac_rec (i64.sub (local.get $n) (i64.const 1)))))))
  (func (export "fac_iter") (param $n i64) (result i64) (local $acc i64)
    (local.set $acc (i64.const 1))
    (block $done
      (loop $l
        (br_if $done (i64.le_u (local.get $n) (i64.const 1)))
        (local.set $acc (i64.mul (local.get $acc) (local.get $n)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $l)))
    (local.get $acc))
)
