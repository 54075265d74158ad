package server

// senderLimits is the /message budget of each sending user (by scoped
// uid, across all their connections on this node): a user who may message
// others cannot make the node store without bound (each /message is a
// persistent push, kept for its TTL whether or not its recipient exists).
type senderLimits struct {
	users *limiterTable[key]
}

func newSenderLimits(c *Config) *senderLimits {
	if c.MessageRate < 0 {
		return nil
	}
	return &senderLimits{users: newLimiterTable[key](c.MessageRate, c.MessageBurst)}
}

// allow takes one /message from uid's budget.
func (l *senderLimits) allow(uid key) bool {
	return l == nil || l.users.allow(uid)
}
