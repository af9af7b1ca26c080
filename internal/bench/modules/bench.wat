;; The module `hlwasm bench` calls: a trivial export for call latency, and one that dirties a
;; chosen number of linear-memory pages (for fresh-state calls and reset costs).
(module
  (memory (export "memory") 300)
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  ;; Writes one byte into each of the first n pages (n <= 300); returns n.
  (func (export "dirty") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (i32.mul (local.get $i) (i32.const 65536)) (i32.const 64))
                    (i32.add (local.get $i) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $n))
)
