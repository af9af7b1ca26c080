// Package machine runs the hlwasm guest image in one micro-VM and speaks the mailbox protocol
// of package abi: load modules into the guest's store, register them for linking, call
// exports and read globals. It is the layer between vmm (KVM) and the public host API.
package machine

import (
	"errors"
	"fmt"

	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/errs"
	"github.com/hlwasm/hlwasm/internal/vmm"
)

// Sentinel errors, for errors.Is.
var (
	ErrTrap       = errs.ErrTrap
	ErrMalformed  = errors.New("malformed module")
	ErrInvalid    = errors.New("invalid module")
	ErrUnlinkable = errors.New("unlinkable module")
	ErrLimit      = errors.New("limit exceeded")
	// ErrNoMemory: the engine heap is exhausted; it wraps ErrLimit.
	ErrNoMemory    = &limitError{"guest memory exhausted"}
	ErrBadRequest  = errors.New("bad request")
	ErrUnsupported = errs.ErrUnsupportedFeature
	ErrDeadline    = errs.ErrDeadline
	ErrCanceled    = errs.ErrCanceled
	ErrGuestFault  = errors.New("guest fault")
	ErrClosed      = errs.ErrClosed
	ErrUnusable    = errors.New("machine unusable after an earlier failure")
)

// limitError is a sentinel that is also an ErrLimit.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }
func (e *limitError) Unwrap() error { return ErrLimit }

// GuestError is an error reported by the engine inside the guest.
type GuestError struct {
	Status uint32 // abi.Status*
	Trap   uint32 // abi.Trap* when Status == abi.StatusTrap
	Msg    string // the engine's message (copied out of guest memory, length-checked)
	// HeapBytes is the machine's engine heap (Config.HeapBytes) when Status is
	// StatusNoMemory.
	HeapBytes uint64
}

func (e *GuestError) Error() string {
	if e.Status == abi.StatusTrap {
		if e.Msg != "" {
			return "trap: " + e.Msg
		}
		return "trap: " + TrapMessage(e.Trap)
	}
	if e.Status == abi.StatusNoMemory && e.HeapBytes > 0 {
		return fmt.Sprintf("%v: %s (engine heap of %d bytes)", e.sentinel(), e.Msg, e.HeapBytes)
	}
	return fmt.Sprintf("%v: %s", e.sentinel(), e.Msg)
}

// Unwrap makes errors.Is(err, ErrTrap) and friends work.
func (e *GuestError) Unwrap() error { return e.sentinel() }

func (e *GuestError) sentinel() error {
	switch e.Status {
	case abi.StatusTrap:
		return ErrTrap
	case abi.StatusMalformed:
		return ErrMalformed
	case abi.StatusInvalid:
		return ErrInvalid
	case abi.StatusUnlinkable:
		return ErrUnlinkable
	case abi.StatusLimit:
		return ErrLimit
	case abi.StatusNoMemory:
		return ErrNoMemory
	case abi.StatusUnsupported:
		return ErrUnsupported
	default:
		return ErrBadRequest
	}
}

// TrapMessage is the spec's wording for a trap kind.
func TrapMessage(kind uint32) string { return errs.TrapKind(kind).String() }

// Trapped is the trap as the public error type (nil unless Status is StatusTrap).
func (e *GuestError) Trapped() *errs.TrapError {
	if e.Status != abi.StatusTrap {
		return nil
	}
	return &errs.TrapError{Kind: errs.TrapKind(e.Trap), Msg: e.Msg}
}

// As lets errors.As find a trap's public *errs.TrapError in a GuestError too (a nested call's
// error reaches host functions as it comes from the machine).
func (e *GuestError) As(target any) bool {
	if t, ok := target.(**errs.TrapError); ok && e.Status == abi.StatusTrap {
		*t = e.Trapped()
		return true
	}
	return false
}

// KVM is the /dev/kvm handle machines are made with; a runtime shares one between its machines.
type KVM = vmm.KVM

// OpenKVM opens /dev/kvm and checks what machines need (errors wrap vmm.ErrNoKVM & co.).
func OpenKVM() (*KVM, error) { return vmm.Open() }

// KVMAvailable reports whether /dev/kvm can be opened.
func KVMAvailable() bool { return vmm.Available() }

// ThreadDedicated is the vCPU thread mode in which every call wakes a vCPU thread
// (KVM.ThreadMode reports a handle's default and why).
const ThreadDedicated = vmm.ThreadDedicated
