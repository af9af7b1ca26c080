;; One fuel budget per call across the tiers (edge.c): with ENG_TIER_MIXED, $burn (function 0)
;; is compiled and $work (function 1) interpreted, so every iteration crosses the tiers twice;
;; each work call costs about 10^4, burn's own loop little: a crossing that refilled the
;; budget would let burn(100) finish under a fuel limit of 10^5.
(module
  (func $burn (export "burn") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (call $work (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  (func $work (param $x i32) (result i32)
    (local $k i32)
    (loop $l
      (local.set $x (i32.add (local.get $x) (i32.const 3)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $k) (i32.const 2000))))
    (local.get $x))
)
