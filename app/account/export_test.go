package account

// RefreshWaiters counts the callers waiting on token refreshes under way.
func RefreshWaiters(l *Linker) int { return l.refreshes.waiting() }
