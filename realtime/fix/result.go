package fix

// Outcome is what became of one fix.
type Outcome string

// The outcomes of a fix.
const (
	Accepted Outcome = "accepted" // stored as the unit's latest position
	Stored   Outcome = "stored"   // kept in history only (out of order)
	Rejected Outcome = "rejected" // refused; Result.Err says why
)

// Result is the outcome of one fix, with the reason when it was not
// accepted (see Code for its stable code).
type Result struct {
	Outcome Outcome
	Err     error
}
