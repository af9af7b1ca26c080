;; Imports jit3.wasm's loop_ind (registered as "a") and tail-calls it: the callee reads its
;; own memory (byte 0 = 7; this module's is 0), so it must run with its instance's memory.
(module
  (type $t (func (param i64 i64) (result i64)))
  (import "a" "loop_ind" (func $ind (type $t)))
  (memory 1)
  (func (export "tail_import") (param $n i64) (result i64)
    (return_call $ind (local.get $n) (i64.const 0)))
)
