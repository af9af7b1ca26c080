// Package abi is the single definition of the host–guest ABI: the guest memory map, the I/O
// ports the guest exits on, the shared mailbox layout, the call protocol's states, operations,
// status codes and trap kinds. wasmguest/include/abi.h is generated from this file by
// `go generate ./internal/abi` (see genabi); TestHeaderUpToDate fails if the two drift. The
// header also carries a C11 _Static_assert for each invariant in checks.go (the memory map's
// regions are page aligned and disjoint, fields are aligned, the mailbox fields do not overlap
// and fit its page), so a change that breaks one fails the guest build; TestChecks evaluates
// the same checks in Go.
package abi

//go:generate go run ./genabi -o ../../wasmguest/include/abi.h

// Version is bumped whenever anything below changes meaning.
const Version = 5

// Magic identifies a mailbox the host initialised ("HLWM").
const Magic = 0x4d574c48

// Guest memory map. Guest physical addresses equal guest virtual addresses (identity map).
// The first 4 MiB are mapped with 4 KiB pages so each region gets its own permissions;
// the rest of guest memory is mapped with 2 MiB user read/write no-execute pages.
const (
	GDTAddr        = 0x1000 // supervisor: null, kernel code/data, user code/data, TSS
	IDTAddr        = 0x2000 // supervisor: 32 exception gates
	TSSAddr        = 0x3000 // supervisor: 64-bit TSS, I/O bitmap at TSSAddr+0x68
	TSSIOMapOffset = 0x68
	TSSLimit       = 0x2fff // TSS + 8 KiB I/O bitmap + terminating 0xff byte
	KStackGuard    = 0x6000 // not present
	KStackBase     = 0x7000 // supervisor: exception stack (one page)
	KStackTop      = 0x8000
	FaultAddr      = 0x8000 // supervisor: exception report written by the CPL0 handlers
	PML4Addr       = 0x9000 // supervisor page tables
	PDPTAddr       = 0xa000
	PDAddr         = 0xb000 // first PD; further PDs follow at PDAddr+0x1000*i after the PTs
	PT0Addr        = 0xc000 // 4 KiB mappings of 0..2 MiB
	PT1Addr        = 0xd000 // 4 KiB mappings of 2..4 MiB
	PDMoreAddr     = 0xe000 // PDs for 1 GiB and up (one page per GiB)
	PDMoreMax      = 16     // so guest memory is at most 17 GiB
	// CodePDAddr is the supervisor page directory of the executable view of the code region:
	// 2 MiB user read+execute (never writable) pages at CodeExecAddr mapping the same
	// guest-physical pages as the writable, no-execute heap view at MbCodeAddr, where the
	// compile tier writes machine code. Both views exist from boot: the page tables never change
	// at run time and no page is writable and executable.
	CodePDAddr   = 0x1e000
	CodeExecAddr = 0x4000000000 // 256 GiB: above all guest memory, one PDPT entry
	CodeMax      = 0x40000000   // the code region is at most 1 GiB (one page directory)
	MailboxAddr  = 0x20000
	MailboxSize  = 0x1000
	ImageBase    = 0x100000 // guest image: text (user RX), rodata (user R), data+bss (user RW)
	ImageMax     = 0x100000
	UStackGuard  = 0x200000 // not present
	UStackBase   = 0x201000 // user stack for the engine (CPL3)
	UStackTop    = 0x400000
	XferAddr     = 0x400000 // bulk transfer window (module bytes, names); then the heap
	// MaxModuleBytes is the largest module binary the engine decodes (256 MiB; larger is
	// StatusLimit "module too large"): the host's MaxModuleBytes cannot go beyond it.
	MaxModuleBytes = 0x10000000
	SmallMapEnd    = 0x400000 // end of the 4 KiB-mapped region
)

// Guest image header: the first bytes of the image at ImageBase.
const (
	ImageMagic = 0x474d4c48 // "HLMG"
	// Offsets of u32 fields in the image header.
	ImgOffMagic     = 0x00
	ImgOffVersion   = 0x04 // must equal Version
	ImgOffEntry     = 0x08 // CPL3 entry point, absolute
	ImgOffTextEnd   = 0x0c // end of text (page aligned), absolute
	ImgOffRodataEnd = 0x10 // end of rodata (page aligned), absolute
	ImgOffDataEnd   = 0x14 // end of data+bss (page aligned), absolute
	ImgOffFaultEnt  = 0x18 // CPL0 exception entry table: 32 stubs, FaultStubSize bytes apart
	// ImgOffParkResume: where every park exit resumes (the instruction after its `out`), which
	// reloads a clean x87/SSE state: every snapshot's RIP, so a reset need not set the FPU.
	ImgOffParkResume = 0x1c
	ImgHeaderSize    = 0x20
	FaultStubSize    = 16
)

// CPU features the guest's code may depend on: bits of CPUID leaf 1 ECX, which the compile
// tier's SIMD templates are gated on (jit_x64.c cpu_features). A snapshot file records which of
// them its guest saw; a machine whose guest would lack one refuses the file (its compiled code
// may use the instructions), so files move between hosts of one CPU generation, or newer.
const (
	CPUFeatSSSE3 = 0x200    // CPUID.1:ECX bit 9
	CPUFeatSSE41 = 0x80000  // CPUID.1:ECX bit 19
	CPUFeatSSE42 = 0x100000 // CPUID.1:ECX bit 20
	CPUFeatUsed  = 0x180200 // all of the above
)

// I/O ports the guest exits on with `out imm8, al`.
const (
	PortPark     = 0x10 // guest idle and parked: the host writes a request, sets StateRequest, resumes
	PortHostCall = 0x11 // guest needs a host function: request in the host-call area
	PortFault    = 0x12 // CPL0 exception handler: report at FaultAddr; the guest is dead
	PortPanic    = 0x13 // guest runtime detected an internal error: message in Msg; dead
)

// Mailbox states (u32 at MbState). The guest waits for a state by spinning for SpinCycles TSC
// cycles (HostCallSpin while it waits for a host call's answer) or until HostWaiting is set, then moves the waiting state to its parked twin with a compare-and-swap and exits;
// the host posts with a compare-and-swap from the waiting state and, if it finds the parked
// twin instead, collects the exit and resumes the vCPU.
const (
	StateBooting         = 0
	StateIdle            = 1 // guest waits for a request; the previous reply (if any) is complete
	StateParked          = 2 // guest waited too long and exits (PortPark)
	StateRequest         = 3 // host posted a request
	StateHostCall        = 4 // guest posted a host-function call and waits for StateHostReturn
	StateHostCallParked  = 5 // guest waited too long and exits (PortHostCall)
	StateHostCallClaimed = 6 // a host thread serves the host call
	StateHostReturn      = 7 // host wrote the results of the host call
	// During a host call the host may call back into the guest (a nested request: the
	// canonical ABI's cabi_realloc): it posts StateRequest over HostCallClaimed or NestedReply;
	// the guest serves it and answers NestedReply, then waits for the next nested request or
	// HostReturn, parking as NestedParked.
	StateNestedReply  = 8
	StateNestedParked = 9
)

// Mailbox field offsets (bytes from MailboxAddr). Each comment starts with the field's type
// (u32, u64, u64[MaxValues], char[MsgMax]): checks.go derives the layout checks from it.
const (
	MbMagic        = 0x000 // u32, host
	MbVersion      = 0x004 // u32, host
	MbHostWaiting  = 0x00c // u32, atomic: a host thread blocks (not spinning) on the reply
	MbSpinCycles   = 0x010 // u64, host: how long the guest spins before it parks
	MbHeapAddr     = 0x018 // u64, host
	MbHeapSize     = 0x020 // u64, host
	MbXferAddr     = 0x028 // u64, host
	MbXferSize     = 0x030 // u64, host
	MbMaxPages     = 0x038 // u32, host: cap on any linear memory, in 64 KiB pages
	MbMaxDepth     = 0x03c // u32, host: Wasm call depth limit
	MbGuestReady   = 0x040 // u32, guest: Version once booted
	MbTier         = 0x044 // u32, host: TierCompiled or TierInterp
	MbCodeAddr     = 0x048 // u64, host: the code region's writable view (guest-physical, 2 MiB aligned)
	MbCodeSize     = 0x050 // u64, host: its size in bytes (a multiple of 2 MiB, at most CodeMax)
	MbHostCallSpin = 0x058 // u64, host: how long the guest spins on a host call before it parks
	MbReqOp        = 0x100 // u32
	MbReqInst      = 0x104 // u32: instance id
	MbReqIndex     = 0x108 // u32: export index
	MbReqNParams   = 0x10c // u32
	MbReqXferLen   = 0x110 // u64: payload bytes at XferAddr
	MbReqParams    = 0x118 // u64[MaxValues]: the first five share the request's cache line
	MbRepStatus    = 0x340 // u32
	MbRepTrap      = 0x344 // u32
	MbRepNResults  = 0x348 // u32
	MbRepValue     = 0x34c // u32: instance id for OpLoad
	MbRepMsgLen    = 0x350 // u32
	MbRepResults   = 0x358 // u64[MaxValues]: the first five share the reply's cache line
	// The state word shares one 64-byte cache line with a host call's id, counts, status,
	// memory window and first three values, so that an exit-less host call moves that line
	// between the cores about once each way instead of three lines.
	MbState        = 0x580 // u32, atomic
	MbHostFunc     = 0x584 // u32: host function id
	MbHostNParams  = 0x588 // u32
	MbHostNResults = 0x58c // u32
	MbHostStatus   = 0x590 // u32: 0 ok; non-zero aborts the call with TrapHost
	MbHostMemBase  = 0x598 // u64: the calling instance's memory 0 (0 if none)
	MbHostMemSize  = 0x5a0 // u64: its size in bytes
	MbHostValues   = 0x5a8 // u64[MaxValues]: params in, results out
	MbMsg          = 0x800 // char[MsgMax]
	MbStatCalls    = 0xc00 // u64, guest: requests served
	MbStatParks    = 0xc08 // u64, guest: times parked
	MbStatHeapUsed = 0xc10 // u64, guest: engine heap bytes handed out so far (bump high-water mark)
	MbStatCodeUsed = 0xc18 // u64, guest: code region bytes handed out so far
	// MbStatCPUFeatures: the CPUFeat* bits the guest's compiler uses, as its CPUID showed them
	// at boot (on PVM a CPL3 CPUID may not be KVM's table: only the guest can tell).
	MbStatCPUFeatures = 0xc20 // u32, guest
	// Guest-side WASI I/O (the IO region; docs/ARCHITECTURE.md, "WASI I/O"). The host writes
	// the flags, the function ids, the batched descriptors, the error bits and the windows;
	// the guest runtime answers small fd_write calls on batched descriptors by appending to the
	// batch at IOBatchAddr and small fd_read calls inside a window from it, with no host call.
	// Everything the guest writes here is untrusted: the host checks it against what it gave.
	MbIOFlags     = 0xc40 // u32, host: IOEnabled when the guest may answer fd_write/fd_read itself
	MbIOWriteFunc = 0xc44 // u32, host: host function id of wasi_snapshot_preview1.fd_write
	MbIOReadFunc  = 0xc48 // u32, host: host function id of wasi_snapshot_preview1.fd_read
	MbIOErrKinds  = 0xc4c // u32, host: bit k set: stream kind k has a write error to report (go to the host)
	MbIOBatchLen  = 0xc50 // u32, guest: bytes in the batch
	MbIOBatchKind = 0xc54 // u32, guest: the stream kind (IOKindStdout/IOKindStderr) of the batch
	MbIOOutFd     = 0xc60 // u32[IOOutFds], host: descriptors whose writes are batched
	MbIOOutKind   = 0xc80 // u32[IOOutFds], host: their stream kind (0: unused entry)
	MbIOWinFd     = 0xca0 // u32[IOWindows], host: the descriptor of each read window
	MbIOWinLen    = 0xcb0 // u32[IOWindows], host: bytes in the window (0: no window)
	MbIOWinEOF    = 0xcc0 // u32[IOWindows], host: 1 if the file ended at the window's end when filled
	MbIOWinPos    = 0xcd0 // u32[IOWindows], guest: bytes of the window consumed (the file offset is its start plus this)
	MbStatIOLocal = 0xce0 // u64, guest: fd_write/fd_read calls answered without a host call
	MaxValues     = 64
	MsgMax        = 1024
)

// The IO region: the write batch and the read windows, user read/write, between the mailbox
// and the guest image. Pages are touched only as bytes are written or read through them.
const (
	IOAddr       = 0x21000
	IOBatchAddr  = 0x21000
	IOBatchSize  = 0x40000 // 256 KiB
	IOWinAddr    = 0x61000 // window i at IOWinAddr + i*IOWinSize
	IOWinSize    = 0x40000
	IOWindows    = 2
	IOOutFds     = 8
	IOEnd        = 0xe1000
	IODirectMax  = 0x2000 // larger fd_write/fd_read calls always go to the host (8 KiB)
	IOMaxIovecs  = 1024   // iovecs beyond this are ignored, as on the host
	IOEnabled    = 1
	IOKindStdout = 1
	IOKindStderr = 2
)

// Execution tiers (MbTier): the engine's ENG_TIER_* values.
const (
	TierCompiled = 0 // compile every function to x86-64 (interpreter fallback per function)
	TierInterp   = 1 // interpreter only
)

// Request operations (MbReqOp).
const (
	OpNop = 0 // answers StatusOK: liveness check
	// OpLoad: module bytes in xfer: parse, validate, link, instantiate, start; RepValue = the
	// instance. If ReqNParams > 0, the first ReqIndex bytes of xfer are a table of ReqNParams
	// host functions, defined first (one round trip for both); per function: u32 id, u16
	// module length, module, u16 name length, name, u8 param count, param types, u8 result
	// count, result types.
	OpLoad      = 1
	OpRegister  = 2 // name in xfer: instance ReqInst's exports become importable under that name
	OpCall      = 3 // call the function export ReqIndex of instance ReqInst with ReqParams
	OpGlobalGet = 4 // read the global export ReqIndex of instance ReqInst into RepResults[0]
	// OpFault makes the guest raise a CPU exception on purpose (ReqIndex: FaultUD, FaultPF,
	// FaultDE, FaultStack): how tests check that a misbehaving guest is torn down cleanly. The
	// guest can only hurt itself with it.
	OpFault = 6
	// OpMemory reports instance ReqInst's memory 0: RepResults[0] its guest address, [1] its
	// size in bytes (0, 0 if none). The host checks the window lies in the guest heap.
	OpMemory = 7
	// OpMemoryGrow grows a memory by ReqIndex pages (memory.grow's semantics): instance
	// ReqInst's memory 0, or with ReqInst = MemoryAtBase the memory whose base is ReqParams[0]
	// (a host function's view of its caller's memory). RepResults[0] is the previous size in
	// pages, or 0xffffffff if it cannot grow; [1], [2] the memory's base and size in bytes now.
	OpMemoryGrow = 8
	MemoryAtBase = 0xffffffff
)

// Reply status codes (MbRepStatus).
const (
	StatusOK          = 0
	StatusMalformed   = 1 // binary cannot be decoded
	StatusInvalid     = 2 // fails validation
	StatusUnlinkable  = 3 // imports cannot be satisfied
	StatusTrap        = 4 // RepTrap says which
	StatusLimit       = 5 // a documented engine limit was exceeded
	StatusNoMemory    = 6 // the guest heap is exhausted
	StatusBadRequest  = 7 // unknown op, instance, export index or argument count
	StatusUnsupported = 8 // a feature the engine does not implement
)

// Trap kinds (MbRepTrap), each with the WebAssembly spec's wording (TrapMessages).
const (
	TrapNone                 = 0
	TrapUnreachable          = 1
	TrapMemoryOutOfBounds    = 2
	TrapDivideByZero         = 3
	TrapIntegerOverflow      = 4
	TrapInvalidConversion    = 5
	TrapIndirectTypeMismatch = 6
	TrapUndefinedElement     = 7
	TrapUninitializedElement = 8
	TrapCallStackExhausted   = 9
	TrapTableOutOfBounds     = 10
	TrapNullReference        = 11
	TrapHost                 = 12
	// An exception (exception handling) no handler caught reached the export boundary; a host
	// function between the throw and the export does not catch it either (its nested call
	// fails with this trap, then the host function's failure is the outer call's TrapHost).
	TrapUncaughtException = 13
	// call_ref / return_call_ref of a null reference (typed function references).
	TrapNullFunctionReference = 14
	// i31.get_s / i31.get_u of a null reference (GC).
	TrapNullI31Reference = 15
	// ref.cast of a reference that does not have the target type (GC).
	TrapCastFailure = 16
	// struct.get / struct.set of a null reference (GC).
	TrapNullStructReference = 17
	// array instructions on a null reference (GC).
	TrapNullArrayReference = 18
	// an array index or range out of bounds (GC).
	TrapArrayOutOfBounds = 19
	// the engine heap holds no room for a GC object even after a collection (GC).
	TrapHeapExhausted = 20
	TrapCount         = 21
)

// TrapMessages maps trap kinds to the spec's wording.
var TrapMessages = [TrapCount]string{
	TrapNone:                  "no trap",
	TrapUnreachable:           "unreachable",
	TrapMemoryOutOfBounds:     "out of bounds memory access",
	TrapDivideByZero:          "integer divide by zero",
	TrapIntegerOverflow:       "integer overflow",
	TrapInvalidConversion:     "invalid conversion to integer",
	TrapIndirectTypeMismatch:  "indirect call type mismatch",
	TrapUndefinedElement:      "undefined element",
	TrapUninitializedElement:  "uninitialized element",
	TrapCallStackExhausted:    "call stack exhausted",
	TrapTableOutOfBounds:      "out of bounds table access",
	TrapNullReference:         "null reference",
	TrapHost:                  "host function error",
	TrapUncaughtException:     "uncaught exception",
	TrapNullFunctionReference: "null function reference",
	TrapNullI31Reference:      "null i31 reference",
	TrapCastFailure:           "cast failure",
	TrapNullStructReference:   "null structure reference",
	TrapNullArrayReference:    "null array reference",
	TrapArrayOutOfBounds:      "out of bounds array access",
	TrapHeapExhausted:         "out of memory (GC heap exhausted)",
}

// OpFault kinds.
const (
	FaultUD    = 0 // ud2
	FaultPF    = 1 // write to the unmapped null page
	FaultDE    = 2 // integer divide by zero
	FaultStack = 3 // unbounded recursion into the stack guard page
)

// Fault report at FaultAddr, written by the CPL0 handlers (u64 fields).
const (
	FaultVector = 0x00
	FaultError  = 0x08
	FaultRIP    = 0x10
	FaultCR2    = 0x18
	FaultRSP    = 0x20
	FaultCS     = 0x28
	FaultValid  = 0x30 // 1 once written
	// FaultResume: the host sets 1 before resuming a faulted guest whose fault it fixed (a
	// page of the heap mapped on first touch); the stub then returns to the faulting
	// instruction. Otherwise the stub stays stopped.
	FaultResume = 0x38
)
