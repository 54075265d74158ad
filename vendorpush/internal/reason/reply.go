// Package reason holds what the vendor senders (FCM, Web Push) share to
// keep a vendor's refusal in an error: its text, bounded.
package reason

// MaxText bounds the text an error keeps from a vendor's reply.
const MaxText = 200

// Clip returns s cut to at most MaxText bytes, on a rune boundary, with
// "…" appended when it was cut.
func Clip(s string) string {
	if len(s) <= MaxText {
		return s
	}
	i := MaxText
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}
