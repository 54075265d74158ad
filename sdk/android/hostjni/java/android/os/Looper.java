// Host-only compile stub of the Android class (sdk/android/hostjni): just the
// members the wrapper and the sample use, so that they compile, and cannot
// rot, without an Android SDK. Calling it on the host fails loudly.
package android.os;

public final class Looper {
    private Looper() {}

    public static Looper getMainLooper() {
        throw new UnsupportedOperationException("android.os.Looper host stub");
    }

    public static Looper myLooper() {
        throw new UnsupportedOperationException("android.os.Looper host stub");
    }
}
