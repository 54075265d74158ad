// Host-only compile stub of the Android class (sdk/android/hostjni).
package android.os;

public final class Bundle {}
