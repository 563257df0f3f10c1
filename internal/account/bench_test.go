package account_test

import (
	"testing"

	"clusterapi/internal/account"
)

// BenchmarkHashDefault measures one sign-in's password check at the default
// argon2id cost (the same work as hashing).
func BenchmarkHashDefault(b *testing.B) {
	for b.Loop() {
		account.HashPassword("correct horse battery", account.DefaultHashParams)
	}
}
