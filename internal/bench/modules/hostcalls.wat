;; The host-call scenario of `hlwasm bench`: one export whose single call makes 1,000 calls of
;; a host function (env.add, which the host provides), so the cost of crossing to the host
;; dominates and the result (1000) checks that every call happened.
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (func (export "calls1000") (result i32)
    (local $i i32) (local $acc i32)
    (loop $l
      (local.set $acc (call $add (local.get $acc) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
    (local.get $acc))
)
