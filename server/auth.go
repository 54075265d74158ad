package server

import (
	"context"
	"net"
)

// Authenticator turns an app's token into a user id. Implementations live in
// package auth (JWT, webhook, none) or in the embedder.
//
// Return an error satisfying errors.Is(err, pack.CodeAuthFailed) when the
// credentials are invalid: the app is told to stop (4001). Any other error
// means the check could not be made (e.g. a webhook is down): the app is told
// to retry later (3005).
type Authenticator interface {
	Authenticate(ctx context.Context, token string, remote net.Addr) (uid string, err error)
}

// LocalAuthenticator is an Authenticator that does no I/O (e.g. JWT
// verification): the node calls it on the event loop instead of on a
// goroutine per login, which makes connect storms cheaper.
type LocalAuthenticator interface {
	Authenticator
	Local() bool
}

// isLocal reports whether a does no I/O (LocalAuthenticator).
func isLocal(a Authenticator) bool {
	la, ok := a.(LocalAuthenticator)
	return ok && la.Local()
}
