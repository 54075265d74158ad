// Host-only compile stub of the Android class (sdk/android/hostjni): just the
// members the wrapper uses. Calling it on the host fails loudly.
package android.util;

public final class Log {
    private Log() {}

    public static int d(String tag, String msg) {
        throw new UnsupportedOperationException("android.util.Log host stub");
    }

    public static int i(String tag, String msg) {
        throw new UnsupportedOperationException("android.util.Log host stub");
    }

    public static int w(String tag, String msg) {
        throw new UnsupportedOperationException("android.util.Log host stub");
    }

    public static int e(String tag, String msg) {
        throw new UnsupportedOperationException("android.util.Log host stub");
    }
}
