// Host-only compile stub of the Android interface (sdk/android/hostjni): just
// the members the sample uses.
package android.content;

public interface SharedPreferences {
    long getLong(String key, long defValue);

    Editor edit();

    interface Editor {
        Editor putLong(String key, long value);

        void apply();
    }
}
