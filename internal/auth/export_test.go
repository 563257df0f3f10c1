package auth

// ThrottleKeys returns how many keys the verifier's throttle tracks.
func (v *Verifier) ThrottleKeys() int { return v.throttle.size() }
