package machine

// phaseMark, set only by tests (TestColdBreakdown), is told when each phase of starting a
// machine from a snapshot file ends: what a cold sandbox's time is spent on.
var phaseMark func(phase string)

func markPhase(phase string) {
	if phaseMark != nil {
		phaseMark(phase)
	}
}
