package machine

import (
	"context"
	"fmt"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
)

// GuestIO is the host's half of guest-side WASI I/O (the MbIO* fields and the IO region of
// package abi; the guest's half is wasmguest/rt/io.c). The guest runtime answers small
// fd_write calls on the descriptors the host lists by appending to a batch in guest memory,
// and small fd_read calls inside a read window the host filled, with no host call. The machine
// calls Drain, with the guest stopped or waiting, before it serves any host call, after a
// nested request, and when each request ends however it ends (return, trap, fault, deadline):
// the batch goes to the host and the windows' consumed counts become file offsets. It calls
// Publish before each request and before the guest resumes after a host call: the descriptor
// table, error bits and windows are written for the guest. Both get a view of [MailboxAddr,
// IOEnd), valid until they return (Drain's until the matching Publish: fd_read fills windows
// through it). Everything the guest wrote there is untrusted: Drain checks it against what
// Publish gave and returns an error for a lie (the request then fails with ErrGuestFault).
type GuestIO struct {
	WriteFunc, ReadFunc uint32 // the host function ids of fd_write and fd_read
	Drain               func(ctx context.Context, io api.Memory, end bool) error
	Publish             func(io api.Memory, end bool)
}

// SetGuestIO turns guest-side I/O on for the requests that follow (nil: off).
func (m *Machine) SetGuestIO(g *GuestIO) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gio = g
}

// ioView is a view of the mailbox and the IO region for GuestIO.
func (m *Machine) ioView() api.Memory {
	return m.views.view(m.mem[abi.MailboxAddr:abi.IOEnd:abi.IOEnd])
}

// ioPublish writes the guest I/O fields (only those that change: an unchanged page stays
// shared with the snapshot).
func (m *Machine) ioPublish(end bool) {
	g := m.gio
	if g == nil || m.closed {
		return
	}
	set32 := func(off int, v uint32) {
		if m.get32(off) != v {
			m.put32(off, v)
		}
	}
	set32(abi.MbIOWriteFunc, g.WriteFunc)
	set32(abi.MbIOReadFunc, g.ReadFunc)
	set32(abi.MbIOFlags, abi.IOEnabled)
	g.Publish(m.ioView(), end)
}

// ioDrain hands the guest's batch and window positions to the host. A lie of the guest's
// fails the request.
func (m *Machine) ioDrain(ctx context.Context, end bool) error {
	g := m.gio
	if g == nil || m.closed {
		return nil
	}
	if err := g.Drain(ctx, m.ioView(), end); err != nil {
		return fmt.Errorf("%w: %w", ErrGuestFault, err)
	}
	return nil
}

// ioEnd drains at the end of a request, however it ended, and takes the windows away.
func (m *Machine) ioEnd(ctx context.Context) error {
	if m.gio == nil || m.closed {
		return nil
	}
	err := m.ioDrain(ctx, true)
	m.ioPublish(true)
	return err
}
