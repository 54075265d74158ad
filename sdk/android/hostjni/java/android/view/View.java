// Host-only compile stub of the Android class (sdk/android/hostjni).
package android.view;

import android.content.Context;

public class View {
    public View(Context context) {
        throw new UnsupportedOperationException("android.view.View host stub");
    }
}
