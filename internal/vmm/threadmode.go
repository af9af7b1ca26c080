package vmm

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ThreadMode says which OS thread issues a vCPU's KVM_RUN (see VCPU).
type ThreadMode uint8

const (
	ThreadAuto      ThreadMode = iota // the KVM handle's default (KVM.ThreadMode)
	ThreadCaller                      // the goroutine that wants the exit runs the vCPU
	ThreadDedicated                   // a locked OS thread of the vCPU's own
)

func (m ThreadMode) String() string {
	switch m {
	case ThreadCaller:
		return "caller"
	case ThreadDedicated:
		return "dedicated"
	}
	return "auto"
}

// ThreadModeEnv overrides the default thread mode: "caller" or "dedicated".
const ThreadModeEnv = "HLWASM_VCPU_THREAD"

// callerRunsSince is the first kernel whose KVM_RUN takes a change of the issuing thread
// cheaply. Until then kvm_vcpu_ioctl, seeing KVM_RUN from a thread other than the vCPU's last
// one, swapped vcpu->pid under RCU and called synchronize_rcu() — a grace period (milliseconds)
// on every change, which Go's M:N scheduling would make frequent. Linux 6.12 protects
// vcpu->pid with a rwlock instead (commit "KVM: Protect vCPU's "last run PID" with rwlock, not
// RCU"): a change costs a lock and a put_pid. (From memory of the kernel history: no kernel
// sources were at hand when this was written; a distribution kernel with the change backported
// merely runs a little slower in the dedicated mode.)
var callerRunsSince = [2]int{6, 12}

// defaultThreadMode picks the mode for a handle: the environment override, else by kernel.
func defaultThreadMode() (ThreadMode, string) {
	switch v := os.Getenv(ThreadModeEnv); v {
	case "caller":
		return ThreadCaller, ThreadModeEnv + "=caller"
	case "dedicated":
		return ThreadDedicated, ThreadModeEnv + "=dedicated"
	case "":
	default:
		return ThreadDedicated, fmt.Sprintf("%s=%q is neither caller nor dedicated", ThreadModeEnv, v)
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ThreadDedicated, "uname failed: " + err.Error()
	}
	rel := unix.ByteSliceToString(u.Release[:])
	major, minor, ok := kernelVersion(rel)
	switch {
	case !ok:
		return ThreadDedicated, "kernel release " + rel + " not understood"
	case major > callerRunsSince[0] || major == callerRunsSince[0] && minor >= callerRunsSince[1]:
		return ThreadCaller, "kernel " + rel
	}
	return ThreadDedicated, "kernel " + rel + " synchronizes RCU when the vCPU's thread changes"
}

// kernelVersion parses "6.18.44-fc-v1045" into 6, 18.
func kernelVersion(rel string) (major, minor int, ok bool) {
	parts := strings.SplitN(rel, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	end := 0
	for end < len(parts[1]) && parts[1][end] >= '0' && parts[1][end] <= '9' {
		end++
	}
	minor, err2 := strconv.Atoi(parts[1][:end])
	return major, minor, err1 == nil && err2 == nil
}

// ThreadMode is the mode vCPUs of this handle get when created with ThreadAuto, and why.
func (k *KVM) ThreadMode() (ThreadMode, string) { return k.mode, k.modeWhy }

func (k *KVM) resolve(m ThreadMode) ThreadMode {
	if m == ThreadAuto {
		return k.mode
	}
	return m
}
