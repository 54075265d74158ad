// Host-only compile stub of the Android class (sdk/android/hostjni): just the
// members the sample uses. Calling it on the host fails loudly.
package android.app;

import android.content.Context;
import android.content.Intent;
import android.content.SharedPreferences;
import android.os.Bundle;
import android.view.View;

public class Activity extends Context {
    public static final int MODE_PRIVATE = 0; // Context.MODE_PRIVATE on Android

    public Intent getIntent() {
        throw new UnsupportedOperationException("android.app.Activity host stub");
    }

    public SharedPreferences getPreferences(int mode) {
        throw new UnsupportedOperationException("android.app.Activity host stub");
    }

    protected void onCreate(Bundle savedInstanceState) {}

    protected void onStart() {}

    protected void onStop() {}

    protected void onDestroy() {}

    public void setContentView(View view) {
        throw new UnsupportedOperationException("android.app.Activity host stub");
    }

    public final void runOnUiThread(Runnable action) {
        throw new UnsupportedOperationException("android.app.Activity host stub");
    }
}
