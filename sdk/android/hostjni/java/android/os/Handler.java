// Host-only compile stub of the Android class (sdk/android/hostjni): just the
// members the wrapper and the sample use. Calling it on the host fails loudly.
package android.os;

public class Handler {
    public Handler(Looper looper) {
        throw new UnsupportedOperationException("android.os.Handler host stub");
    }

    public final boolean post(Runnable r) {
        throw new UnsupportedOperationException("android.os.Handler host stub");
    }
}
