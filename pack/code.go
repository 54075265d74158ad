package pack

import (
	"errors"
	"strconv"
)

// Code is a numeric close/error code carried in meta "code".
//
// The thousands digit is the rule every client applies, including to codes
// it does not know: 3xxx means the connection ended for a reason that a new
// connection can fix, so reconnect with backoff; 4xxx on URIDisconnect or
// URIAuthFailed means stop and surface the error. On URIError any code is
// the answer to one request on a connection that stays open: 4xxx refused
// it, 3005 failed it without executing it (retry later), 3008 failed to
// learn whether it was executed (do not blindly retry).
type Code uint16

// The code table (docs/protocol.md §Codes).
const (
	// CodeShutdown: the node is shutting down; reconnect (to another node).
	CodeShutdown Code = 3000
	// CodeHeartbeatTimeout: nothing was received within the heartbeat timeout.
	CodeHeartbeatTimeout Code = 3001
	// CodeSlowConsumer: the peer did not read fast enough; its queue overflowed.
	CodeSlowConsumer Code = 3002
	// CodeAuthTimeout: no auth frame arrived within the auth timeout.
	CodeAuthTimeout Code = 3003
	// CodeTooManyConnections: the node is at its connection limit.
	CodeTooManyConnections Code = 3004
	// CodeInternal: the node failed; reconnect. On URIError: the request
	// was not executed (nothing stored), so retrying it is safe.
	CodeInternal Code = 3005
	// CodeFrameTooLarge: a frame's declared length was over the limit.
	CodeFrameTooLarge Code = 3006
	// CodeBadFrame: a frame could not be decoded (garbage, wrong codec).
	CodeBadFrame Code = 3007
	// CodeOutcomeUnknown: the node could not tell whether the request was
	// executed (e.g. its store did not confirm a persistent push that it
	// may have stored); do not blindly retry. A per-request answer on
	// URIError: the connection stays open. Contrast CodeInternal on
	// URIError, which a node answers only when it knows nothing was done.
	CodeOutcomeUnknown Code = 3008

	// CodeAuthFailed: the token or secret was refused. Terminal.
	CodeAuthFailed Code = 4001
	// CodeReplaced: a newer login of the same user and device took over. Terminal.
	CodeReplaced Code = 4002
	// CodeForbidden: the peer may not send this URI (e.g. a push from an app).
	CodeForbidden Code = 4003
	// CodeBadRequest: a request was malformed (body schema, missing field).
	CodeBadRequest Code = 4004
	// CodeUnsupportedVersion: the client's protocol version is not served. Terminal.
	CodeUnsupportedVersion Code = 4005
	// CodeNotFound: the addressed room or user does not exist where required.
	CodeNotFound Code = 4006
	// CodeRateLimited: too many frames or bytes; slow down.
	CodeRateLimited Code = 4029
	// CodeRefused: the connection filter refused the remote address. Terminal.
	CodeRefused Code = 4030
)

var codeText = map[Code]string{
	CodeShutdown:           "server shutting down",
	CodeHeartbeatTimeout:   "heartbeat timeout",
	CodeSlowConsumer:       "slow consumer",
	CodeAuthTimeout:        "auth timeout",
	CodeTooManyConnections: "too many connections",
	CodeInternal:           "internal error",
	CodeFrameTooLarge:      "frame too large",
	CodeBadFrame:           "bad frame",
	CodeOutcomeUnknown:     "outcome unknown",
	CodeAuthFailed:         "auth failed",
	CodeReplaced:           "replaced by a newer login",
	CodeForbidden:          "forbidden",
	CodeBadRequest:         "bad request",
	CodeUnsupportedVersion: "unsupported protocol version",
	CodeNotFound:           "not found",
	CodeRateLimited:        "rate limited",
	CodeRefused:            "connection refused",
}

// Codes lists every defined code in ascending order.
func Codes() []Code {
	return []Code{CodeShutdown, CodeHeartbeatTimeout, CodeSlowConsumer, CodeAuthTimeout,
		CodeTooManyConnections, CodeInternal, CodeFrameTooLarge, CodeBadFrame, CodeOutcomeUnknown,
		CodeAuthFailed, CodeReplaced, CodeForbidden, CodeBadRequest, CodeUnsupportedVersion,
		CodeNotFound, CodeRateLimited, CodeRefused}
}

// Reconnect reports whether a client should reconnect after the node closed
// the connection with c: true for 3xxx (and unknown codes below 4000).
func (c Code) Reconnect() bool { return c < 4000 }

// String returns the code's short text, or "code N" when unknown.
func (c Code) String() string {
	if s, ok := codeText[c]; ok {
		return s
	}
	return "code " + strconv.Itoa(int(c))
}

// Error makes a Code usable as an error: "plex: 4001 auth failed".
func (c Code) Error() string { return "plex: " + strconv.Itoa(int(c)) + " " + c.String() }

// ParseCode reads a code from its meta value; ok is false when s is not a number.
func ParseCode(s string) (c Code, ok bool) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, false
	}
	return Code(n), true
}

// CodeError is an error carrying a Code and the peer's reason.
type CodeError struct {
	Code   Code
	Reason string
}

func (e *CodeError) Error() string {
	if e.Reason == "" || e.Reason == e.Code.String() {
		return e.Code.Error()
	}
	return e.Code.Error() + ": " + e.Reason
}

// Is makes errors.Is(err, pack.CodeAuthFailed) true for a CodeError with that code.
func (e *CodeError) Is(target error) bool {
	c, ok := target.(Code)
	return ok && c == e.Code
}

// CodeOf returns the Code in err's chain and true, or 0 and false.
func CodeOf(err error) (Code, bool) {
	var ce *CodeError
	if errors.As(err, &ce) {
		return ce.Code, true
	}
	var c Code
	if errors.As(err, &c) {
		return c, true
	}
	return 0, false
}

// ErrorMessage builds the frame that reports c: uri is URIError,
// URIDisconnect or URIAuthFailed; seq repeats a request id (0 for none).
// For URIAuthFailed the body is the reason, as the original protocol had it.
func ErrorMessage(uri string, seq int64, c Code, reason string) Message {
	if reason == "" {
		reason = c.String()
	}
	return Message{Seq: seq, URI: uri, Body: []byte(reason),
		Meta: map[string]string{MetaCode: strconv.Itoa(int(c)), MetaReason: reason}}
}

// ErrorOf reads the CodeError carried by an error, disconnect or auth-failed
// message. A message without a numeric code gets CodeInternal, or
// CodeAuthFailed for URIAuthFailed (original nodes sent no code).
func ErrorOf(m *Message) *CodeError {
	c, ok := ParseCode(m.Get(MetaCode))
	if !ok {
		c = CodeInternal
		if m.URI == URIAuthFailed {
			c = CodeAuthFailed
		}
	}
	reason := m.Get(MetaReason)
	if reason == "" {
		reason = string(m.Body)
	}
	return &CodeError{Code: c, Reason: reason}
}
