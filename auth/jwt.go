package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plexpush/plex/plog"
)

// JWTConfig configures NewJWT. Exactly one of HMACSecret and PublicKeyPEM
// must be set; every other field's zero value is a working default.
type JWTConfig struct {
	// HMACSecret is the shared secret of HS256, HS384 and HS512 tokens, at
	// least 32 bytes (RFC 7518 §3.2: no shorter than the hash). plexd reads
	// it from the -jwt-secret file with LoadJWTKey.
	HMACSecret []byte

	// PublicKeyPEM holds the PEM public keys that verify RS256/384/512 and
	// PS256/384/512 (RSA, at least 2048 bits), ES256 (P-256), ES384 (P-384),
	// ES512 (P-521) or EdDSA (Ed25519) tokens. Each block is a "PUBLIC KEY"
	// (PKIX), an "RSA PUBLIC KEY" (PKCS #1) or a "CERTIFICATE"; several
	// blocks allow key rotation (a token is accepted when any key of its
	// algorithm verifies it). A private key is refused. plexd reads it from
	// the -jwt-public-key file with LoadJWTKey.
	PublicKeyPEM []byte

	// Algorithms narrows the accepted "alg" values. Empty means every
	// algorithm of the configured keys, as listed above. Naming an
	// algorithm none of the keys can verify (including "none", or HS256
	// with a public key) is a configuration error: the verifier never
	// accepts an algorithm that does not match its key's type.
	Algorithms []string

	// Issuer, when set, must equal the token's "iss". Empty: not checked.
	Issuer string

	// Audience, when set, must be one of the token's "aud". Empty: not
	// checked.
	Audience string

	// Leeway is the clock skew tolerated on "exp" and "nbf". Zero: none.
	// Negative is a configuration error.
	Leeway time.Duration

	// AllowMissingExp accepts tokens that have no "exp". The zero value
	// (false) requires "exp": a token that never expires can only be
	// revoked by rotating the key for everyone. An "exp" that is present is
	// always checked, and so is "nbf".
	AllowMissingExp bool

	// Now returns the current time, for tests. Nil: time.Now.
	Now func() time.Time

	// Logger receives a Debug record per refused token with the reason and
	// the remote address, never the token. Nil: silent.
	Logger *slog.Logger
}

// JWT authenticates JSON Web Tokens (RFC 7519) signed with JWS: the uid is
// the "sub" claim, which must be present, at most MaxUIDLen bytes, UTF-8
// and free of control characters. Make it with NewJWT; a JWT is safe for concurrent use.
//
// Any problem with the token (malformed, an algorithm not allowed, a bad
// signature, expired, not yet valid, wrong issuer or audience, no usable
// "sub") is a pack.CodeAuthFailed error with a fixed reason. Verification
// is local and CPU-bound, so ctx is not consulted.
type JWT struct {
	keys       map[string]any // alg → key or jwt.VerificationKeySet
	parser     *jwt.Parser
	requireExp bool // for reasons only: the parser enforces it
	issuer     string
	audience   string
	log        *slog.Logger
}

// NewJWT checks cfg and returns the JWT verifier it describes. Errors wrap
// ErrBadConfig.
func NewJWT(cfg JWTConfig) (*JWT, error) {
	ka := keyAlgs{}
	switch {
	case len(cfg.HMACSecret) > 0 && len(cfg.PublicKeyPEM) > 0:
		// One verifier, one kind of key: mixing a secret and public keys is
		// exactly the setup in which algorithm confusion bugs live.
		return nil, badConfig("both HMACSecret and PublicKeyPEM are set; use one")
	case len(cfg.HMACSecret) > 0:
		if len(cfg.HMACSecret) < minHMACSecret {
			return nil, badConfig("HMACSecret has %d bytes; at least %d are required", len(cfg.HMACSecret), minHMACSecret)
		}
		ka.add(slices.Clone(cfg.HMACSecret), hmacAlgs...)
	case len(cfg.PublicKeyPEM) > 0:
		var err error
		if ka, err = parsePublicKeys(cfg.PublicKeyPEM); err != nil {
			return nil, err
		}
	default:
		return nil, badConfig("neither HMACSecret nor PublicKeyPEM is set")
	}
	if len(cfg.Algorithms) > 0 {
		narrowed := keyAlgs{}
		for _, a := range cfg.Algorithms {
			if len(ka[a]) == 0 {
				return nil, badConfig("algorithm %q cannot be verified with the configured key", a)
			}
			narrowed[a] = ka[a]
		}
		ka = narrowed
	}
	if cfg.Leeway < 0 {
		return nil, badConfig("negative Leeway %v", cfg.Leeway)
	}

	keys := make(map[string]any, len(ka))
	for alg, ks := range ka {
		if len(ks) == 1 {
			keys[alg] = ks[0]
			continue
		}
		set := jwt.VerificationKeySet{Keys: make([]jwt.VerificationKey, len(ks))}
		for i, k := range ks {
			set.Keys[i] = k
		}
		keys[alg] = set
	}

	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	opts := []jwt.ParserOption{jwt.WithLeeway(cfg.Leeway), jwt.WithTimeFunc(now), jwt.WithIssuedAt()}
	if !cfg.AllowMissingExp {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return &JWT{
		keys:       keys,
		parser:     jwt.NewParser(opts...),
		requireExp: !cfg.AllowMissingExp,
		issuer:     cfg.Issuer,
		audience:   cfg.Audience,
		log:        plog.OrDiscard(cfg.Logger),
	}, nil
}

// errAlgorithm is returned by keyfunc for an "alg" that no configured key
// may verify.
var errAlgorithm = errors.New("algorithm not allowed")

// keyfunc hands the parser the key(s) filed under the token's algorithm,
// and nothing for any other algorithm ("none" included). The parser's
// signing methods check the key's Go type again before verifying.
func (j *JWT) keyfunc(t *jwt.Token) (any, error) {
	if k, ok := j.keys[t.Method.Alg()]; ok {
		return k, nil
	}
	return nil, errAlgorithm
}

// Authenticate verifies token and returns its "sub" claim.
func (j *JWT) Authenticate(_ context.Context, token string, remote net.Addr) (string, error) {
	if j == nil || j.parser == nil {
		return "", unavailable("JWT not made by NewJWT", nil)
	}
	var claims strictClaims
	if _, err := j.parser.ParseWithClaims(token, &claims, j.keyfunc); err != nil {
		return "", j.refuse(j.reason(err, &claims.RegisteredClaims), remote)
	}
	switch p := uidProblem(claims.Subject); {
	case claims.Subject == "":
		return "", j.refuse("missing sub", remote)
	case len(claims.Subject) > MaxUIDLen:
		return "", j.refuse("sub too long", remote)
	case p != "":
		return "", j.refuse("sub not printable", remote)
	}
	return claims.Subject, nil
}

func (j *JWT) refuse(reason string, remote net.Addr) error {
	j.log.Debug("auth: jwt refused", "reason", reason, plog.KeyRemote, addrString(remote))
	return failed(reason)
}

// reason maps a parser error to a fixed reason. The parser's own texts are
// not used: some quote bytes of the token. c holds the claims as far as
// they were decoded.
func (j *JWT) reason(err error, c *jwt.RegisteredClaims) string {
	switch {
	case errors.Is(err, errDateType):
		return "exp, nbf and iat must be numbers"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, errAlgorithm), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "algorithm not allowed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		switch {
		case j.requireExp && c.ExpiresAt == nil:
			return "missing exp"
		case j.issuer != "" && c.Issuer == "":
			return "missing iss"
		case j.audience != "" && len(c.Audience) == 0:
			return "missing aud"
		}
		return "missing claim"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	}
	return "invalid token"
}

// addrString is remote.String(), or "" for a nil address.
func addrString(remote net.Addr) string {
	if remote == nil {
		return ""
	}
	return remote.String()
}

// Local reports that JWT verification does no I/O, so a node may call it
// on its event loop (server.LocalAuthenticator).
func (*JWT) Local() bool { return true }

// errDateType: a date claim that is not a JSON number.
var errDateType = errors.New("date claim is not a number")

// strictClaims are the registered claims with RFC 7519's types enforced
// for the dates: exp, nbf and iat are NumericDates, JSON numbers (the
// library also takes a number in a string, "exp":"1700000000").
type strictClaims struct {
	jwt.RegisteredClaims
}

func (c *strictClaims) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, k := range []string{"exp", "nbf", "iat"} {
		if v, ok := raw[k]; ok && (len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9'))) {
			return errDateType
		}
	}
	return json.Unmarshal(b, &c.RegisteredClaims)
}
