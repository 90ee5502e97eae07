package music

// The rules below are the QueueStore semantics every store shares, so that
// backends agree on bounds and on which error a caller gets.

// ValidateTracks checks the tracks of one Enqueue before any I/O.
func ValidateTracks(tracks []Track) error {
	if len(tracks) == 0 {
		return Errorf(EINVALID, "Nothing to add.")
	}
	if len(tracks) > MaxQueueLen {
		return queueFull()
	}
	for _, t := range tracks {
		if err := t.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// CheckRoom reports whether k more entries fit a queue of length n.
func CheckRoom(n, k int) error {
	if n+k > MaxQueueLen {
		return queueFull()
	}
	return nil
}

func queueFull() *Error {
	return Errorf(EINVALID, "The queue is full (at most %d tracks).", MaxQueueLen)
}

// CheckIndex checks index i into a queue of length n: ENOTFOUND when the
// queue is empty, EINVALID when i is out of range.
func CheckIndex(n, i int) error {
	if n == 0 {
		return Errorf(ENOTFOUND, "The queue is empty.")
	}
	if i < 0 || i >= n {
		return Errorf(EINVALID, "There is no track %d in the queue (it has %d).", i+1, n)
	}
	return nil
}

// PageWindow checks Page's arguments against a queue of length n and
// returns the indexes [start, end) to return, limit clamped to MaxPageLimit.
// An offset at or past the end is not an error: the page is empty.
func PageWindow(n, offset, limit int) (start, end int, err error) {
	if offset < 0 || limit <= 0 {
		return 0, 0, Errorf(EINVALID, "A page needs a non-negative offset and a positive limit.")
	}
	limit = min(limit, MaxPageLimit)
	start = min(offset, n)
	end = min(start+limit, n)
	return start, end, nil
}
