package vendorpush

import "errors"

// The sentinels below are shared by this package and the senders in
// vendorpush/apns, vendorpush/fcm and vendorpush/webpush, so a caller tests one error for every
// vendor: errors.Is(err, vendorpush.ErrInvalidToken).
var (
	// ErrInvalidToken: the vendor says the device token can never succeed
	// again (APNs 410, or 400 BadDeviceToken; FCM UNREGISTERED, or
	// INVALID_ARGUMENT naming message.token). The Dispatcher removes such
	// a token from the DeviceRegistry. Errors that may come from our own
	// configuration (APNs DeviceTokenNotForTopic, FCM SENDER_ID_MISMATCH)
	// never match: a wrong topic or project would otherwise erase every
	// token of every user.
	ErrInvalidToken = errors.New("vendorpush: device token invalid or unregistered")
	// ErrAuth: the vendor refused our credentials (APNs 403
	// InvalidProviderToken/ExpiredProviderToken, FCM 401 or a token endpoint
	// that refuses the service account). An operator has to act.
	ErrAuth = errors.New("vendorpush: vendor refused the credentials")
	// ErrBadNotification: the notification cannot be sent as it is (payload
	// over the vendor's size limit, collapse id too long, a reserved data
	// key). Found before any request is made.
	ErrBadNotification = errors.New("vendorpush: notification cannot be sent")
	// ErrBadConfig is wrapped by the errors New, apns.New and fcm.New return
	// for a configuration that cannot work.
	ErrBadConfig = errors.New("vendorpush: bad config")
	// ErrClosed is returned by Shutdown and Close when the Dispatcher was
	// already stopped.
	ErrClosed = errors.New("vendorpush: dispatcher closed")
)
