// Command stdlib exercises goroutines, channels, maps, encoding/json, regexp, math/big,
// crypto/sha256 and the preopened file system, printing deterministic output.
package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

type record struct {
	Name  string            `json:"name"`
	Count int               `json:"count"`
	Tags  []string          `json:"tags,omitempty"`
	Attrs map[string]string `json:"attrs"`
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "-write" {
		writeFiles(os.Args[2])
		return
	}
	// Goroutines and channels: a pipeline summing squares.
	in, out := make(chan int), make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range in {
				out <- v * v
			}
		}()
	}
	go func() {
		for i := 1; i <= 1000; i++ {
			in <- i
		}
		close(in)
	}()
	go func() { wg.Wait(); close(out) }()
	sum := 0
	for v := range out {
		sum += v
	}
	fmt.Println("sum of squares:", sum)

	// select with a timer (poll_oneoff).
	select {
	case <-time.After(5 * time.Millisecond):
		fmt.Println("timer fired")
	}

	// Maps (sorted keys) and JSON round trip.
	words := map[string]int{}
	for _, w := range strings.Fields("the quick brown fox jumps over the lazy dog the end") {
		words[w]++
	}
	keys := make([]string, 0, len(words))
	for k := range words {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s=%d ", k, words[k])
	}
	fmt.Println()
	r := record{Name: "gopher", Count: 42, Tags: []string{"a", "b"}, Attrs: map[string]string{"z": "1", "a": "2"}}
	b, err := json.Marshal(r)
	check(err)
	fmt.Println(string(b))
	var back record
	check(json.Unmarshal(b, &back))
	fmt.Printf("%+v\n", back)

	// regexp
	re := regexp.MustCompile(`(\w+)@(\w+)\.com`)
	for _, m := range re.FindAllStringSubmatch("alice@example.com, bob@test.com; nobody", -1) {
		fmt.Println("match", m[1], m[2])
	}

	// math/big
	f := new(big.Int).MulRange(1, 50)
	fmt.Println("50! =", f)
	fib := [2]*big.Int{big.NewInt(0), big.NewInt(1)}
	for i := 0; i < 300; i++ {
		fib[0].Add(fib[0], fib[1])
		fib[0], fib[1] = fib[1], fib[0]
	}
	fmt.Println("fib(300) =", fib[0])

	// crypto/sha256
	fmt.Printf("sha256(abc) = %x\n", sha256.Sum256([]byte("abc")))

	// Preopened directory, if any.
	if len(os.Args) > 1 {
		root := os.Args[1]
		check(fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				fmt.Println("walk error:", p, err)
				return nil
			}
			if d.IsDir() {
				fmt.Println("dir ", p)
				return nil
			}
			data, err := fs.ReadFile(os.DirFS(root), p)
			check(err)
			fmt.Printf("file %s %d %x\n", p, len(data), sha256.Sum256(data))
			return nil
		}))
		_, err := os.ReadFile(root + "/../../etc/passwd")
		fmt.Println("escape attempt fails:", err != nil)
		_, err = os.Stat(root + "/missing")
		fmt.Println("missing:", os.IsNotExist(err))
	}
}

// writeFiles creates, appends, truncates, renames and removes files and directories in dir.
func writeFiles(dir string) {
	p := dir + "/out.txt"
	check(os.WriteFile(p, []byte("first line\n"), 0o644))
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	check(err)
	_, err = f.WriteString("appended\n")
	check(err)
	check(f.Close())
	data, err := os.ReadFile(p)
	check(err)
	fmt.Printf("read back %q\n", data)
	f, err = os.OpenFile(p, os.O_RDWR, 0)
	check(err)
	_, err = f.WriteAt([]byte("FIRST"), 0)
	check(err)
	check(f.Truncate(8))
	fi, err := f.Stat()
	check(err)
	fmt.Println("size after truncate:", fi.Size())
	check(f.Close())
	data, err = os.ReadFile(p)
	check(err)
	fmt.Printf("now %q\n", data)
	check(os.Mkdir(dir+"/d", 0o755))
	check(os.Rename(p, dir+"/d/moved.txt"))
	_, err = os.Stat(p)
	fmt.Println("old name gone:", os.IsNotExist(err))
	entries, err := os.ReadDir(dir + "/d")
	check(err)
	for _, e := range entries {
		fmt.Println("entry", e.Name(), e.IsDir())
	}
	fmt.Println("remove non-empty dir fails:", os.Remove(dir+"/d") != nil)
	check(os.Remove(dir + "/d/moved.txt"))
	check(os.Remove(dir + "/d"))
	_, err = os.Create(dir + "/../outside.txt")
	fmt.Println("create outside fails:", err != nil)
	entries, err = os.ReadDir(dir)
	check(err)
	fmt.Println("left:", len(entries))
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
