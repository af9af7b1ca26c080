;; The module `hlwasm bench` calls: a trivial export for call latency, one that dirties a
;; chosen number of linear-memory pages (fresh-state calls, reset costs), and one that calls
;; the host n times (host-call round trips; the host provides env.add).
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
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
  ;; Calls env.add n times; returns n.
  (func (export "host_loop") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (call $add (local.get $acc) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $acc))
)
