;; host.wat: calls host functions from module "env" (built with wat2wasm host.wat).
(module
  (import "env" "add" (func $add (param i32 i64) (result i64)))
  (import "env" "fail" (func $fail (param i32)))
  (import "env" "peek" (func $peek (param i32 i32) (result i32)))
  (memory (export "memory") 1 4)
  (data (i32.const 16) "hello")
  (func (export "call_add") (param i32 i64) (result i64)
    (call $add (local.get 0) (local.get 1)))
  (func (export "call_fail") (param i32)
    (call $fail (local.get 0)))
  ;; peek(offset, len): the host sums the bytes it reads (or returns -1 out of bounds).
  (func (export "call_peek") (param i32 i32) (result i32)
    (call $peek (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0)))
)
