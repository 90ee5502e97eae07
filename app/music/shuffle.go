package music

import "math/rand/v2"

// ShuffleOrder returns the order QueueStore.Shuffle gives a queue of n
// entries for seed: the entry at index perm[i] moves to index i. Every store
// shuffles with it, so one seed means one order whatever the backend.
func ShuffleOrder(n int, seed int64) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x74696d6d79626f74))
	r.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	return perm
}
