;; traps.wat — one export per Wasm trap kind, plus a non-terminating export and memory helpers.
;; Every trap export takes no parameters; calling it must trap with the kind named in the
;; comment (HL_TRAP_* in wasmguest/include/abi.h). Built by mk/testdata.mk: wat2wasm traps.wat -o traps.wasm
(module
  (type $i32_to_i32 (func (param i32) (result i32)))
  (type $void_to_i32 (func (result i32)))

  ;; 1 page, no maximum: `grow` may grow it up to the engine's limit.
  (memory (export "memory") 1)

  ;; Table of 4 slots: 0 and 1 hold functions of type $i32_to_i32, 2 and 3 stay null.
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $inc $dec)
  (func $inc (type $i32_to_i32) (i32.add (local.get 0) (i32.const 1)))
  (func $dec (type $i32_to_i32) (i32.sub (local.get 0) (i32.const 1)))

  ;; HL_TRAP_UNREACHABLE — "unreachable"
  (func (export "unreachable") (result i32)
    unreachable)

  ;; HL_TRAP_MEMORY_OUT_OF_BOUNDS — "out of bounds memory access" (load at 0xFFFFFFFC+8:
  ;; effective address > 4 GiB, out of bounds for any 32-bit memory size)
  (func (export "oob_load") (result i32)
    (i32.load offset=8 (i32.const -4)))

  ;; HL_TRAP_MEMORY_OUT_OF_BOUNDS — store one byte past the end of the (1-page) memory
  ;; (assumes nobody called `grow` on this instance).
  (func (export "oob_store")
    (i32.store8 (i32.const 65536) (i32.const 42)))

  ;; HL_TRAP_MEMORY_OUT_OF_BOUNDS — a 4-byte load straddling the end of memory (last 2 bytes
  ;; in bounds), at memory.size*64Ki - 2, so it traps whatever the current size.
  (func (export "oob_straddle") (result i32)
    (i32.load (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 2))))

  ;; HL_TRAP_DIVIDE_BY_ZERO — "integer divide by zero"
  (func (export "div_zero") (result i32)
    (i32.div_s (i32.const 1) (i32.const 0)))

  ;; HL_TRAP_DIVIDE_BY_ZERO — i64.rem_u by zero
  (func (export "rem_zero_i64") (result i64)
    (i64.rem_u (i64.const 7) (i64.const 0)))

  ;; HL_TRAP_INTEGER_OVERFLOW — "integer overflow": INT32_MIN / -1
  (func (export "div_overflow") (result i32)
    (i32.div_s (i32.const 0x80000000) (i32.const -1)))

  ;; HL_TRAP_INVALID_CONVERSION — "invalid conversion to integer": trunc of NaN
  (func (export "trunc_nan") (result i32)
    (i32.trunc_f32_s (f32.const nan)))

  ;; HL_TRAP_INTEGER_OVERFLOW — "integer overflow": trunc of 3e9 to i32 (out of range)
  (func (export "trunc_overflow") (result i32)
    (i32.trunc_f64_s (f64.const 3e9)))

  ;; HL_TRAP_INDIRECT_TYPE_MISMATCH — "indirect call type mismatch": slot 0 holds an
  ;; (i32)->i32 function, called as ()->i32.
  (func (export "indirect_type_mismatch") (result i32)
    (call_indirect (type $void_to_i32) (i32.const 0)))

  ;; HL_TRAP_UNDEFINED_ELEMENT — "undefined element": index 10 is past the table (size 4).
  (func (export "indirect_undefined") (result i32)
    (call_indirect (type $i32_to_i32) (i32.const 5) (i32.const 10)))

  ;; HL_TRAP_UNINITIALIZED_ELEMENT — "uninitialized element": slot 3 is null.
  (func (export "indirect_null") (result i32)
    (call_indirect (type $i32_to_i32) (i32.const 5) (i32.const 3)))

  ;; Not a trap: slot 1 ($dec) called with the right type; indirect_ok(x) == x - 1.
  (func (export "indirect_ok") (param i32) (result i32)
    (call_indirect (type $i32_to_i32) (local.get 0) (i32.const 1)))

  ;; HL_TRAP_CALL_STACK_EXHAUSTED — "call stack exhausted": unbounded non-tail recursion.
  (func $recurse (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "stack_overflow") (result i32)
    (call $recurse (i32.const 0)))

  ;; Never returns (no calls, no memory traffic): for timeouts / interruption / fuel.
  (func (export "spin")
    (loop $l (br $l)))

  ;; Never returns, but keeps a counter in memory[0..4) so progress is observable.
  (func (export "spin_count")
    (loop $l
      (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
      (br $l)))

  ;; memory.grow by n pages; returns the old size in pages, or -1 when growth fails.
  (func (export "grow") (param $n i32) (result i32)
    (memory.grow (local.get $n)))

  ;; Current memory size in pages.
  (func (export "size") (result i32)
    (memory.size))
)
