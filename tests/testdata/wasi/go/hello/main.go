// Command hello prints a greeting, its arguments and selected environment variables.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("hello, world")
	for i, a := range os.Args {
		fmt.Printf("arg[%d]=%q\n", i, a)
	}
	for _, k := range []string{"GREETING", "EMPTY", "MISSING"} {
		v, ok := os.LookupEnv(k)
		fmt.Printf("env %s=%q %v\n", k, v, ok)
	}
	fmt.Fprintln(os.Stderr, "to stderr")
	if len(os.Args) > 1 && os.Args[1] == "exit3" {
		os.Exit(3)
	}
}
