;; Part A of host/linked_test.go's linked set: a memory, a table and functions for part B.
(module
  (memory (export "memory") 1)
  (table (export "table") 2 funcref)
  (global $n (mut i32) (i32.const 0))
  (data (i32.const 16) "from A")
  ;; bump returns an increasing counter: fresh state shows as 1
  (func (export "bump") (result i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (global.get $n))
  (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2))))
