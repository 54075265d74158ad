// Host-only compile stub of the Android class (sdk/android/hostjni): just the
// members the sample uses.
package android.widget;

import android.content.Context;
import android.view.View;

public class TextView extends View {
    public TextView(Context context) {
        super(context);
    }

    public void append(CharSequence text) {
        throw new UnsupportedOperationException("android.widget.TextView host stub");
    }
}
