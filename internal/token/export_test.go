package token

// WrongSecret returns a well-formed token (checksum included) with the id of
// full and another secret, for tests of the wrong-secret path.
func WrongSecret(full string) string {
	b := []byte(full)
	i := IDLen + 1
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	putChecksum(b[Len-checksumLen:], checksum(string(b[:Len-checksumLen])))
	return string(b)
}
