;; ioscript: runs a script of WASI file operations inside one call (tests/programs/guestio_test.go),
;; so that the guest-side read windows and write batch serve many of them without a host call.
;; open() opens "f" three times in preopen 3: fd 4 read-only, 5 appending, 6 for writing.
;; run(n) executes n records of 80 bytes at 0x50000: u32 func (0 fd_read, 1 fd_pread, 2 fd_seek,
;; 3 fd_write, 4 fd_pwrite, 5 fd_tell, 6 fd_write to stdout), u32 iovec 0 buf/len and iovec 1
;; buf/len (stored at 100), u32 payload offset/length (copied to 1000), then 5 u64 parameters at
;; +32. Before each op [8192, 38192) and [40000, 65000) are cleared; after it a 24-byte result
;; goes to 0x30000 + 24*i: errno, the u32 at 8, the u64 at 16, and a checksum of [8192, 65000).
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pread" (func $fd_pread (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pwrite" (func $fd_pwrite (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_tell" (func $fd_tell (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 16)
  (data (i32.const 4096) "f")
  (func (export "open") (result i32)
    (i32.or
      (i32.or
        (call $path_open (i32.const 3) (i32.const 0) (i32.const 4096) (i32.const 1) (i32.const 0)
          (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 8))
        (call $path_open (i32.const 3) (i32.const 0) (i32.const 4096) (i32.const 1) (i32.const 0)
          (i64.const 64) (i64.const 0) (i32.const 1) (i32.const 8)))
      (call $path_open (i32.const 3) (i32.const 0) (i32.const 4096) (i32.const 1) (i32.const 0)
        (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 8))))
  (func $p (param $r i32) (param $k i32) (result i64)
    (i64.load (i32.add (i32.add (local.get $r) (i32.const 32)) (i32.mul (local.get $k) (i32.const 8)))))
  (func (export "run") (param $n i32)
    (local $i i32) (local $r i32) (local $e i32) (local $a i32) (local $h i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $r (i32.add (i32.const 0x50000) (i32.mul (local.get $i) (i32.const 80))))
        (memory.fill (i32.const 8192) (i32.const 0) (i32.const 30000))
        (memory.fill (i32.const 40000) (i32.const 0) (i32.const 25000))
        (i64.store (i32.const 100) (i64.load (i32.add (local.get $r) (i32.const 4))))
        (i64.store (i32.const 108) (i64.load (i32.add (local.get $r) (i32.const 12))))
        (memory.copy (i32.const 1000) (i32.load (i32.add (local.get $r) (i32.const 20)))
          (i32.load (i32.add (local.get $r) (i32.const 24))))
        (local.set $e
          (block $res (result i32)
            (block $tell (block $pwrite (block $write (block $seek (block $pread (block $read (block $out
              (br_table $read $pread $seek $write $pwrite $tell $out $out (i32.load (local.get $r))))
              ;; 6: stdout
              (br $res (call $fd_write (i32.const 1) (i32.const 100) (i32.wrap_i64 (call $p (local.get $r) (i32.const 2)))
                (i32.const 8))))
              (br $res (call $fd_read (i32.wrap_i64 (call $p (local.get $r) (i32.const 0)))
                (i32.wrap_i64 (call $p (local.get $r) (i32.const 1))) (i32.wrap_i64 (call $p (local.get $r) (i32.const 2)))
                (i32.wrap_i64 (call $p (local.get $r) (i32.const 3))))))
              (br $res (call $fd_pread (i32.wrap_i64 (call $p (local.get $r) (i32.const 0)))
                (i32.wrap_i64 (call $p (local.get $r) (i32.const 1))) (i32.wrap_i64 (call $p (local.get $r) (i32.const 2)))
                (call $p (local.get $r) (i32.const 3)) (i32.wrap_i64 (call $p (local.get $r) (i32.const 4))))))
              (br $res (call $fd_seek (i32.wrap_i64 (call $p (local.get $r) (i32.const 0)))
                (call $p (local.get $r) (i32.const 1)) (i32.wrap_i64 (call $p (local.get $r) (i32.const 2)))
                (i32.wrap_i64 (call $p (local.get $r) (i32.const 3))))))
              (br $res (call $fd_write (i32.wrap_i64 (call $p (local.get $r) (i32.const 0)))
                (i32.wrap_i64 (call $p (local.get $r) (i32.const 1))) (i32.wrap_i64 (call $p (local.get $r) (i32.const 2)))
                (i32.wrap_i64 (call $p (local.get $r) (i32.const 3))))))
              (br $res (call $fd_pwrite (i32.wrap_i64 (call $p (local.get $r) (i32.const 0)))
                (i32.wrap_i64 (call $p (local.get $r) (i32.const 1))) (i32.wrap_i64 (call $p (local.get $r) (i32.const 2)))
                (call $p (local.get $r) (i32.const 3)) (i32.wrap_i64 (call $p (local.get $r) (i32.const 4))))))
            (call $fd_tell (i32.wrap_i64 (call $p (local.get $r) (i32.const 0)))
              (i32.wrap_i64 (call $p (local.get $r) (i32.const 1))))))
        (local.set $h (i64.const 0))
        (local.set $a (i32.const 8192))
        (block $hd
          (loop $hl
            (br_if $hd (i32.ge_u (local.get $a) (i32.const 65000)))
            (local.set $h (i64.add (i64.mul (local.get $h) (i64.const 1099511628211))
              (i64.load (local.get $a))))
            (local.set $a (i32.add (local.get $a) (i32.const 8)))
            (br $hl)))
        (local.set $a (i32.add (i32.const 0x30000) (i32.mul (local.get $i) (i32.const 24))))
        (i32.store (local.get $a) (local.get $e))
        (i32.store (i32.add (local.get $a) (i32.const 4)) (i32.load (i32.const 8)))
        (i64.store (i32.add (local.get $a) (i32.const 8)) (i64.load (i32.const 16)))
        (i64.store (i32.add (local.get $a) (i32.const 16)) (local.get $h))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
)
