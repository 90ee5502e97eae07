package music

// MaxPageLimit is the most entries one QueueStore.Page call returns; stores
// clamp a larger limit to it, so a caller can always ask for "a page".
const MaxPageLimit = 100
