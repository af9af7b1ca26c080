;; Part B of host/linked_test.go's linked set: imports part A (registered as "a") and the host
;; function host.peek, which the test implements with host.PartCaller; puts host.peek into
;; A's table and calls it through that table (as wit-component's shims call lowered imports).
(module
  (import "a" "memory" (memory 1))
  (import "a" "table" (table 2 funcref))
  (import "a" "bump" (func $bump (result i32)))
  (import "host" "peek" (func $peek (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (elem (i32.const 1) func $peek)
  (func (export "run") (result i32)
    (i32.add (call $bump) (call_indirect (type $t) (i32.const 16) (i32.const 1)))))
