package cluster

import "context"

// StoredPushes counts the persistent pushes the stream keeps and the
// users they are for: pushes not yet acked by every device of their user
// (acked ones are purged) and not yet expired. plexd's startup banner
// shows it, so that pushes a data directory still holds are no surprise.
// It asks the stream's leader: one JetStream request.
func (c *Cluster) StoredPushes(ctx context.Context) (pushes, users uint64, err error) {
	if err := c.open(ctx); err != nil {
		return 0, 0, err
	}
	info, err := c.stream.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	return info.State.Msgs, uint64(info.State.NumSubjects), nil
}
