;; Fixture for allow-listed host functions: imports env.add, env.fail, env.boom and the default
;; hlwasm.log, and exports functions that call them.
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "fail" (func $fail))
  (import "env" "boom" (func $boom))
  (import "hlwasm" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello, host")
  (func (export "call_add") (param i32 i32) (result i32)
    (call $add (local.get 0) (local.get 1)))
  ;; Sums 1 n times through the host: n host calls.
  (func (export "add_loop") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (call $add (local.get $acc) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $acc))
  (func (export "greet") (call $log (i32.const 16) (i32.const 11)))
  (func (export "bad_log") (call $log (i32.const 65530) (i32.const 100)))
  (func (export "call_fail") (call $fail))
  (func (export "call_boom") (call $boom))
)
