;; A 32-bit memory of the largest size, 4 GiB (65536 pages): its byte size does not fit in a
;; uint32. probe asks the host (env.add) while the memory is this big; the host function checks
;; the view's size and writes the last bytes; last reads them back.
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (memory (export "memory") 65536)
  (func (export "probe") (result i32) (call $add (i32.const 0) (i32.const 0)))
  (func (export "last") (result i32) (i32.load (i32.const 0xfffffffc))))
