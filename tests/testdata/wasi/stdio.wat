;; stdio.wat: WASI stdio from exports, for the stdio tests in tests/programs.
;;   _start       cat: copies stdin to stdout until EOF (exits 1 on an error)
;;   echo -> n    one fd_read of stdin (up to 64 KiB), written back to stdout; "err\n" to
;;                stderr; returns the bytes read, or -errno
;;   hello(n)     writes "hello from wasm\n" n times to stdout (one fd_write each)
;;   flood -> e   writes 64 KiB to stdout until fd_write fails; returns its errno
;;   then_trap(n), then_spin(n), then_exit(n)   hello(n), then a trap (unreachable), an endless
;;                loop, or proc_exit(3): output written just before the end must not be lost
;;   write2 -> e  two writes of "hello from wasm\n"; returns the second one's errno
;;   log_between  a line to stdout, "err\n" through the host's hlwasm.log, a line to stdout
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "hlwasm" "log" (func $log (param i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "hello from wasm\n")
  (data (i32.const 64) "err\n")

  ;; write(fd, ptr, len) -> errno, through the iovec at 0 and the count at 8
  (func $write (param $fd i32) (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))

  ;; read() -> bytes read into 1024.., or -errno
  (func $read (result i32) (local $e i32)
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 65536))
    (local.set $e (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (if (result i32) (local.get $e)
      (then (i32.sub (i32.const 0) (local.get $e)))
      (else (i32.load (i32.const 8)))))

  (func (export "_start") (local $n i32)
    (loop $more
      (local.set $n (call $read))
      (if (i32.lt_s (local.get $n) (i32.const 0)) (then (call $proc_exit (i32.const 1))))
      (if (i32.gt_s (local.get $n) (i32.const 0))
        (then
          (if (call $write (i32.const 1) (i32.const 1024) (local.get $n))
            (then (call $proc_exit (i32.const 1))))
          (br $more)))))

  (func (export "echo") (result i32) (local $n i32)
    (local.set $n (call $read))
    (if (i32.gt_s (local.get $n) (i32.const 0))
      (then (drop (call $write (i32.const 1) (i32.const 1024) (local.get $n)))))
    (drop (call $write (i32.const 2) (i32.const 64) (i32.const 4)))
    (local.get $n))

  (func $hello_n (export "hello") (param $n i32)
    (block $done
      (loop $more
        (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
        (drop (call $write (i32.const 1) (i32.const 16) (i32.const 16)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $more))))

  (func (export "flood") (result i32) (local $e i32)
    (loop $more
      (local.set $e (call $write (i32.const 1) (i32.const 1024) (i32.const 65536)))
      (br_if $more (i32.eqz (local.get $e))))
    (local.get $e))

  (func (export "then_trap") (param $n i32)
    (call $hello_n (local.get $n))
    unreachable)

  (func (export "then_spin") (param $n i32)
    (call $hello_n (local.get $n))
    (loop $forever (br $forever)))

  (func (export "then_exit") (param $n i32)
    (call $hello_n (local.get $n))
    (call $proc_exit (i32.const 3)))

  (func (export "write2") (result i32)
    (drop (call $write (i32.const 1) (i32.const 16) (i32.const 16)))
    (call $write (i32.const 1) (i32.const 16) (i32.const 16)))

  (func (export "log_between")
    (drop (call $write (i32.const 1) (i32.const 16) (i32.const 16)))
    (call $log (i32.const 64) (i32.const 4))
    (drop (call $write (i32.const 1) (i32.const 16) (i32.const 16)))))
