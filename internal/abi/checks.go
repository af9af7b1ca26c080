package abi

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A Check is an invariant of the ABI, written as a Go expression over this package's constants
// (+, *, /, %, comparisons, &&; no subtraction, so nothing wraps). Header renders each one as
// a C11 _Static_assert in abi.h, so a layout that breaks one fails the guest build;
// TestChecks evaluates them in Go.
type Check struct {
	Expr, Why string
}

const page = "0x1000"

// memoryMapChecks: the regions of the guest memory map are page aligned, in address order and
// do not overlap; the mailbox is one page; the small map is exactly the 4 MiB that PT0 and
// PT1 cover.
var memoryMapChecks = func() []Check {
	var cs []Check
	for _, n := range []string{"GDTAddr", "IDTAddr", "TSSAddr", "KStackGuard", "KStackBase", "KStackTop",
		"FaultAddr", "PML4Addr", "PDPTAddr", "PDAddr", "PT0Addr", "PT1Addr", "PDMoreAddr", "CodePDAddr", "MailboxAddr",
		"ImageBase", "ImageMax", "UStackGuard", "UStackBase", "UStackTop", "XferAddr", "SmallMapEnd", "IOAddr", "IOWinAddr", "IOEnd"} {
		cs = append(cs, Check{n + "%" + page + " == 0", n + " is page aligned"})
	}
	return append(cs,
		Check{"GDTAddr+" + page + " <= IDTAddr", "the GDT page ends before the IDT"},
		Check{"IDTAddr+" + page + " <= TSSAddr", "the IDT page ends before the TSS"},
		Check{"TSSIOMapOffset+0x2000 <= TSSLimit", "the 8 KiB I/O bitmap and its 0xff byte lie within the TSS limit"},
		Check{"TSSAddr+TSSLimit < KStackGuard", "the TSS ends before the kernel stack guard"},
		Check{"KStackGuard+" + page + " <= KStackBase", "the kernel stack guard is one page below the stack"},
		Check{"KStackBase+" + page + " == KStackTop", "the kernel stack is one page"},
		Check{"KStackTop <= FaultAddr", "the fault report lies above the kernel stack"},
		Check{"FaultAddr+FaultResume+8 <= PML4Addr", "the fault report ends before the page tables"},
		Check{"PML4Addr+" + page + " <= PDPTAddr", "page tables do not overlap"},
		Check{"PDPTAddr+" + page + " <= PDAddr", "page tables do not overlap"},
		Check{"PDAddr+" + page + " <= PT0Addr", "page tables do not overlap"},
		Check{"PT0Addr+" + page + " <= PT1Addr", "page tables do not overlap"},
		Check{"PT1Addr+" + page + " <= PDMoreAddr", "page tables do not overlap"},
		Check{"PDMoreAddr+PDMoreMax*" + page + " <= CodePDAddr", "the code page directory follows the other page tables"},
		Check{"CodePDAddr+" + page + " <= MailboxAddr", "the page tables end before the mailbox"},
		Check{"CodeExecAddr%0x40000000 == 0", "the code region's executable view is one page directory"},
		Check{"(PDMoreMax+1)*0x40000000 <= CodeExecAddr", "the executable view lies above all guest memory"},
		Check{"CodeExecAddr < 0x8000000000", "the executable view lies in PML4 entry 0"},
		Check{"CodeMax == 0x40000000", "one page directory maps the executable view"},
		Check{"MailboxSize == " + page, "the mailbox is one page"},
		Check{"MailboxAddr+MailboxSize <= IOAddr", "the mailbox ends before the IO region"},
		Check{"IOAddr == IOBatchAddr", "the batch starts the IO region"},
		Check{"IOBatchAddr+IOBatchSize <= IOWinAddr", "the batch ends before the windows"},
		Check{"IOWinAddr+IOWindows*IOWinSize <= IOEnd", "the windows end within the IO region"},
		Check{"IOEnd <= ImageBase", "the IO region ends before the guest image"},
		Check{"IODirectMax <= IOWinSize", "a direct-size read fits a window"},
		Check{"ImageBase+ImageMax <= UStackGuard", "the guest image ends before the user stack guard"},
		Check{"UStackGuard+" + page + " <= UStackBase", "the user stack guard is one page below the stack"},
		Check{"UStackBase < UStackTop", "the user stack is not empty"},
		Check{"UStackTop <= XferAddr", "the user stack ends before the transfer window"},
		Check{"UStackTop <= SmallMapEnd", "the user stack lies in the 4 KiB-mapped region"},
		Check{"SmallMapEnd == 2*0x200000", "PT0 and PT1 map exactly the small region"},
		Check{"CPUFeatUsed == CPUFeatSSSE3+CPUFeatSSE41+CPUFeatSSE42", "CPUFeatUsed names every feature the guest may use"},
		Check{"ImgOffParkResume+4 <= ImgHeaderSize", "the image header's fields fit the header"},
		Check{"ImgOffFaultEnt < ImgOffParkResume", "the park resume field follows the fault table's"},
		Check{"ImgHeaderSize+32*FaultStubSize <= ImageMax", "the image has room for the header and the fault stubs"},
	)
}()

// mbType is the type a mailbox field's comment starts with: "u32", "u64[MaxValues]", ...
var mbType = regexp.MustCompile(`^(u8|u16|u32|u64|char)(?:\[([A-Za-z0-9]+)\])?(?:[^A-Za-z0-9\[]|$)`)

// Checks returns every invariant: the memory map's, the image header's and fault report's
// field alignment, and the mailbox layout derived from the field types in the comments of
// the Mb* constants (each field aligned to its element size and ending before the next one,
// the last within MailboxSize). It panics if an Mb* field has no type.
func Checks() []Check {
	cs := append([]Check(nil), memoryMapChecks...)
	all := parseConsts()
	consts := constValues()
	faultBlock := -1
	for _, c := range all {
		if c.name == "FaultVector" {
			faultBlock = c.block
		}
	}
	type field struct {
		name       string
		off        uint64
		elem, size string
	}
	var mb []field
	for _, c := range all {
		switch {
		case strings.HasPrefix(c.name, "ImgOff"):
			cs = append(cs, Check{c.name + "%4 == 0", c.name + " (u32) is 4-byte aligned"})
		case c.block == faultBlock:
			cs = append(cs, Check{c.name + "%8 == 0", c.name + " (u64) is 8-byte aligned"})
		case strings.HasPrefix(c.name, "Mb"):
			m := mbType.FindStringSubmatch(c.comment)
			if m == nil {
				panic("abi: mailbox field " + c.name + " has no type (u32, u64[N], ...) in its comment")
			}
			elem := map[string]string{"u8": "1", "char": "1", "u16": "2", "u32": "4", "u64": "8"}[m[1]]
			f := field{name: c.name, off: c.value, elem: elem, size: elem}
			if m[2] != "" {
				if _, ok := consts[m[2]]; !ok {
					panic("abi: mailbox field " + c.name + ": unknown count " + m[2])
				}
				f.size = elem + "*" + m[2]
			}
			mb = append(mb, f)
		}
	}
	sort.SliceStable(mb, func(i, j int) bool { return mb[i].off < mb[j].off })
	for i, f := range mb {
		if f.elem != "1" {
			cs = append(cs, Check{f.name + "%" + f.elem + " == 0", f.name + " is aligned to its element size"})
		}
		next, why := "MailboxSize", f.name+" ends within the mailbox page"
		if i+1 < len(mb) {
			next, why = mb[i+1].name, f.name+" ends before "+mb[i+1].name
		}
		cs = append(cs, Check{f.name + "+" + f.size + " <= " + next, why})
	}
	return cs
}

// abiConst is one constant of abi.go: its value, the line comment after it and the index of
// its const block.
type abiConst struct {
	name    string
	value   uint64
	comment string
	block   int
}

// parseConsts returns the constants of abi.go in source order.
func parseConsts() []abiConst {
	f, err := parser.ParseFile(token.NewFileSet(), "abi.go", source, parser.ParseComments)
	if err != nil {
		panic(err) // abi.go is compiled into this binary, so it parses
	}
	var out []abiConst
	for bi, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					panic("abi constants must be literals: " + name.Name)
				}
				v, err := strconv.ParseUint(lit.Value, 0, 64)
				if err != nil {
					panic(err)
				}
				c := abiConst{name: name.Name, value: v, block: bi}
				if vs.Comment != nil {
					c.comment = strings.TrimSpace(vs.Comment.Text())
				}
				out = append(out, c)
			}
		}
	}
	return out
}

func constValues() map[string]uint64 {
	m := map[string]uint64{}
	for _, c := range parseConsts() {
		m[c.name] = c.value
	}
	return m
}

// cExpr renders a check's expression in C over the header's HL_ macros.
func cExpr(expr string) string {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		panic(fmt.Sprintf("abi check %q: %v", expr, err))
	}
	var render func(ast.Expr) string
	render = func(e ast.Expr) string {
		switch e := e.(type) {
		case *ast.Ident:
			return "HL_" + snake(e.Name)
		case *ast.BasicLit:
			return e.Value
		case *ast.ParenExpr:
			return render(e.X)
		case *ast.BinaryExpr:
			side := func(x ast.Expr) string {
				if _, ok := ast.Unparen(x).(*ast.BinaryExpr); ok {
					return "(" + render(x) + ")"
				}
				return render(x)
			}
			return side(e.X) + " " + e.Op.String() + " " + side(e.Y)
		}
		panic(fmt.Sprintf("abi check %q: unsupported expression %T", expr, e))
	}
	return render(e)
}

// Eval evaluates a check's expression over this package's constants.
func (c Check) Eval() (bool, error) {
	consts := constValues()
	e, err := parser.ParseExpr(c.Expr)
	if err != nil {
		return false, err
	}
	var eval func(ast.Expr) (uint64, error)
	eval = func(e ast.Expr) (uint64, error) {
		switch e := e.(type) {
		case *ast.Ident:
			v, ok := consts[e.Name]
			if !ok {
				return 0, fmt.Errorf("unknown constant %s", e.Name)
			}
			return v, nil
		case *ast.BasicLit:
			return strconv.ParseUint(e.Value, 0, 64)
		case *ast.ParenExpr:
			return eval(e.X)
		case *ast.BinaryExpr:
			x, err := eval(e.X)
			if err != nil {
				return 0, err
			}
			y, err := eval(e.Y)
			if err != nil {
				return 0, err
			}
			b := func(v bool) (uint64, error) {
				if v {
					return 1, nil
				}
				return 0, nil
			}
			switch e.Op {
			case token.ADD:
				return x + y, nil
			case token.MUL:
				return x * y, nil
			case token.QUO, token.REM:
				if y == 0 {
					return 0, fmt.Errorf("division by zero")
				}
				if e.Op == token.QUO {
					return x / y, nil
				}
				return x % y, nil
			case token.LSS:
				return b(x < y)
			case token.LEQ:
				return b(x <= y)
			case token.GTR:
				return b(x > y)
			case token.GEQ:
				return b(x >= y)
			case token.EQL:
				return b(x == y)
			case token.LAND:
				return b(x != 0 && y != 0)
			}
			return 0, fmt.Errorf("unsupported operator %s", e.Op)
		}
		return 0, fmt.Errorf("unsupported expression %T", e)
	}
	v, err := eval(e)
	return v != 0, err
}
