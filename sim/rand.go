package sim

import (
	"hash/fnv"
	"math/rand/v2"
)

// streamSeed derives a stream's second PCG word from its name, so that each
// named stream is independent of how much the others have drawn.
func streamSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// NewStream returns the random stream called name for the run seed. The
// same (seed, name) always yields the same sequence.
func NewStream(seed uint64, name string) *rand.Rand {
	return rand.New(rand.NewPCG(seed, streamSeed(name)))
}
