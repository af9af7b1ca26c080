package machine

import (
	"encoding/binary"

	"github.com/hlwasm/hlwasm/internal/abi"
)

// CrashMarker is the first parameter (an i32's bits) of a call that crash injection turns
// into a crash: see InjectCrashes.
const CrashMarker = 0xdeadc0de

// InjectCrashes makes every machine answer a call whose first parameter is CrashMarker as a
// guest whose engine crashed mid-call would (a reply no engine writes): a machine-level fault,
// so that the layers above (serve's fault-under-load test) can meet real engine failures
// among good calls. For tests only; the returned func turns it off. Not safe to call while
// machines are running.
func InjectCrashes() (off func()) {
	tamperReply = func(mb []byte) {
		if binary.LittleEndian.Uint32(mb[abi.MbReqOp:]) == abi.OpCall &&
			binary.LittleEndian.Uint64(mb[abi.MbReqParams:]) == CrashMarker {
			binary.LittleEndian.PutUint32(mb[abi.MbRepStatus:], 0xff)
		}
	}
	return func() { tamperReply = nil }
}
