package music

import (
	"cmp"
	"strings"
)

// CompareApprovals orders approvals as AllowlistStore.Approved lists them:
// oldest first, ties by guild ID.
func CompareApprovals(a, b Approval) int {
	return cmp.Or(a.ApprovedAt.Compare(b.ApprovedAt), strings.Compare(string(a.Guild), string(b.Guild)))
}

// CompareRequests orders requests as AllowlistStore.Requests lists them:
// oldest first, ties by guild ID.
func CompareRequests(a, b AccessRequest) int {
	return cmp.Or(a.FirstAskedAt().Compare(b.FirstAskedAt()), strings.Compare(string(a.Guild), string(b.Guild)))
}
