;; Fixture for the reset test of vector registers: `leave` computes with v128 values made of
;; the byte 0x5a (stored to memory, so no engine can drop the work) and leaves them in the
;; CPU's vector registers as any SIMD code does; the host checks that no call after a reset
;; can find them there.
(module
  (memory 1)
  (func (export "leave") (result i32)
    (local $v v128)
    (local.set $v (v128.const i64x2 0x5a5a5a5a5a5a5a5a 0x5a5a5a5a5a5a5a5a))
    (v128.store (i32.const 0) (v128.xor (local.get $v) (v128.const i64x2 0 0)))
    (v128.store (i32.const 16) (i8x16.add (local.get $v) (v128.const i64x2 0 0)))
    (v128.store (i32.const 32) (v128.and (local.get $v) (v128.load (i32.const 0))))
    (i32.load8_u (i32.const 40)))
  (func (export "nop") (result i32) (i32.const 0)))
