// Command genabi writes wasmguest/include/abi.h from package abi, so that C and Go share one
// definition of the host–guest ABI.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/hlwasm/hlwasm/internal/abi"
)

func main() {
	out := flag.String("o", "abi.h", "output file")
	flag.Parse()
	if err := os.WriteFile(*out, abi.Header(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", *out)
}
