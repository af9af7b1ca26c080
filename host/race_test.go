//go:build race

package host_test

// raceEnabled: the race detector is on (go test -race).
const raceEnabled = true
