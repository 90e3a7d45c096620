package write

// DedupSize returns how many insertIds e's de-duplication index holds.
func DedupSize(e *Engine) int { return e.dedupIdx().size() }
