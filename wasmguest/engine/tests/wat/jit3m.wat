;; Compile-tier tests of memory64 and multi-memory (edge.c; assembled with the spec reference
;; interpreter: wasm -d jit3m.wat -o jit3m.wasm). Memory 0 is 64-bit, memory 1 32-bit.
(module
  (memory $m64 i64 1)
  (memory $m32 1)
  (data (memory $m32) (i32.const 8) "\01\02\03\04")
  ;; fills memory 0 with n i64 values i (memory64 stores), sums them back (loads), n <= 8192
  (func $sum64 (export "sum64") (param $n i64) (result i64)
    (local $i i64) (local $s i64)
    (block $done (loop $l
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (i64.store (i64.shl (local.get $i) (i64.const 3)) (local.get $i))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l)))
    (local.set $i (i64.const 0))
    (block $done (loop $l
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i64.add (local.get $s) (i64.load (i64.shl (local.get $i) (i64.const 3)))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l)))
    (local.get $s))
  ;; a kernel for timing: sum64(n) reps times
  (func (export "sum64_reps") (param $n i64) (param $reps i32) (result i64)
    (local $s i64)
    (loop $l
      (local.set $s (i64.add (local.get $s) (call $sum64 (local.get $n))))
      (br_if $l (local.tee $reps (i32.sub (local.get $reps) (i32.const 1)))))
    (local.get $s))
  ;; a 64-bit address plus a static offset that carries out of 64 bits must trap, not wrap
  (func (export "wrap_load") (param $a i64) (result i64)
    (i64.load offset=0x100 (local.get $a)))
  (func (export "wrap_store") (param $a i64)
    (i32.store8 offset=0xffffffff (local.get $a) (i32.const 1)))
  (func (export "far") (param $a i64) (result i32)
    (i32.load offset=0x100000000 (local.get $a)))
  ;; memory 1 (32-bit, not memory 0): loads, stores, size, grow, fill, copy, init
  (func (export "m1") (result i32)
    (i32.store8 $m32 (i32.const 16) (i32.add (i32.load8_u $m32 (i32.const 9)) (i32.const 40)))
    (memory.fill $m32 (i32.const 20) (i32.const 5) (i32.const 3))
    (memory.copy $m64 $m32 (i64.const 100) (i32.const 8) (i32.const 4))
    (drop (memory.grow $m32 (i32.const 1)))
    (i32.add (i32.load8_u $m32 (i32.const 16))          ;; 42
      (i32.add (i32.load8_u $m32 (i32.const 22))        ;; 5
        (i32.add (i32.load $m64 (i64.const 100))        ;; 0x04030201
          (i32.add (memory.size $m32) (i32.wrap_i64 (memory.size $m64)))))))  ;; 2 + 1
  (func (export "m1_oob") (result i32)
    (i32.load16_u $m32 offset=2 (i32.const 131070)))    ;; ends at 131074 > 2 pages
)
