// Host-only compile stub of the Android class (sdk/android/hostjni): just the
// members the sample uses. Calling it on the host fails loudly.
package android.content;

public class Intent {
    public String getStringExtra(String name) {
        throw new UnsupportedOperationException("android.content.Intent host stub");
    }
}
