package pack

import "unsafe"

// unsafeString views b as a string without copying; only for values that do
// not outlive b (here: strconv parsing).
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
