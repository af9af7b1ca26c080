// start.S — the guest image header, the CPL3 entry point and the CPL0 exception stubs.
// The host enters the guest at _start in 64-bit mode at CPL3 with RSP at the user stack top.
// The CPL0 code here is integer-only and tiny: on PVM it runs in an instruction emulator.
#include "../include/abi.h"

        .section .header, "ax"
        .globl hl_image_header
hl_image_header:
        .long HL_IMAGE_MAGIC
        .long HL_VERSION
        .long _start
        .long __text_end
        .long __rodata_end
        .long __data_end
        .long hl_fault_stubs
        .long hl_park_resume

        .text
        .globl _start
_start:
        fninit
        ldmxcsr mxcsr_default(%rip)
        xorl %ebp, %ebp
        andq $-16, %rsp
        call rt_main
        // rt_main never returns; if it does, report a panic and stay stopped.
1:      movb $0, %al
        outb %al, $HL_PORT_PANIC
        jmp 1b

// 32 exception stubs, HL_FAULT_STUB_SIZE bytes apart; the host points IDT gate i at stub i.
// Vectors 8, 10-14, 17, 21, 29 and 30 push an error code; the others push a zero so the frame
// has one shape.
        .p2align 4
        .globl hl_fault_stubs
hl_fault_stubs:
        .irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .p2align 4
        .if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
        pushq $\vec
        .else
        pushq $0
        pushq $\vec
        .endif
        jmp fault_common
        .endr

// Frame: vector, error code, RIP, CS, RFLAGS, RSP, SS. Write the report to the supervisor-only
// fault page and exit to the host. The guest is dead unless the host fixed the cause (it maps
// heap regions on first touch) and set the resume flag: then return to the faulting instruction.
fault_common:
        pushq %rax
        movq 8(%rsp), %rax
        movq %rax, HL_FAULT_ADDR + HL_FAULT_VECTOR
        movq 16(%rsp), %rax
        movq %rax, HL_FAULT_ADDR + HL_FAULT_ERROR
        movq 24(%rsp), %rax
        movq %rax, HL_FAULT_ADDR + HL_FAULT_RIP
        movq 32(%rsp), %rax
        movq %rax, HL_FAULT_ADDR + HL_FAULT_CS
        movq 48(%rsp), %rax
        movq %rax, HL_FAULT_ADDR + HL_FAULT_RSP
        movq %cr2, %rax
        movq %rax, HL_FAULT_ADDR + HL_FAULT_CR2
        movq $1, HL_FAULT_ADDR + HL_FAULT_VALID
        outb %al, $HL_PORT_FAULT
        cmpq $1, HL_FAULT_ADDR + HL_FAULT_RESUME
        jne 2f
        movq $0, HL_FAULT_ADDR + HL_FAULT_RESUME
        popq %rax
        addq $16, %rsp          // vector and error code
        iretq
2:      outb %al, $HL_PORT_FAULT
        hlt
        jmp 2b

        .section .rodata
        .p2align 2
mxcsr_default:
        .long 0x1f80
