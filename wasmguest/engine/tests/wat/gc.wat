;; GC stress (edge.c): allocation far beyond the heap in a loop, with a small live set that
;; must survive every collection; and a live set larger than the heap (a trap, no crash).
(module
  (type $bytes (array (mut i8)))
  (type $node (struct (field $next (ref null $node)) (field $val i64) (field $pad (ref $bytes))))
  (global $keep (mut (ref null $node)) (ref.null $node))
  ;; allocates n nodes of about 1 KiB each; keeps the last 16 in a list (global $keep is
  ;; rebuilt every 16), returns the sum of the values in the kept list after the loop.
  (func (export "churn") (param $n i32) (result i64)
    (local $i i32) (local $l (ref null $node)) (local $s i64)
    (loop $top
      (local.set $l (struct.new $node (local.get $l) (i64.extend_i32_u (local.get $i))
        (array.new $bytes (i32.const 7) (i32.const 1024))))
      (if (i32.eq (i32.and (local.get $i) (i32.const 15)) (i32.const 15))
        (then (global.set $keep (local.get $l)) (local.set $l (ref.null $node))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $top (i32.lt_u (local.get $i) (local.get $n))))
    (local.set $l (global.get $keep))
    (block $done
      (loop $sum
        (br_if $done (ref.is_null (local.get $l)))
        (local.set $s (i64.add (local.get $s) (struct.get $node $val (local.get $l))))
        ;; every kept node's array is intact
        (if (i32.ne (array.get_u $bytes (struct.get $node $pad (local.get $l)) (i32.const 1023)) (i32.const 7))
          (then unreachable))
        (local.set $l (struct.get $node $next (local.get $l)))
        (br $sum)))
    (local.get $s))
  ;; keeps every node: more live data than the heap
  (func (export "hoard") (param $n i32)
    (local $i i32)
    (loop $top
      (global.set $keep (struct.new $node (global.get $keep) (i64.const 0)
        (array.new_default $bytes (i32.const 65536))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $top (i32.lt_u (local.get $i) (local.get $n)))))
)
