package io.plexpush.hostjni;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import android.app.Activity;
import android.content.Intent;
import android.view.ViewGroup;
import android.widget.TextView;
import io.plexpush.sample.MainActivity;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.robolectric.Robolectric;
import org.robolectric.RobolectricTestRunner;
import org.robolectric.RuntimeEnvironment;
import org.robolectric.android.controller.ActivityController;

/**
 * The sample app's MainActivity (sdk/android/sample), driven through its
 * lifecycle by Robolectric against a real plexd: onStart/onStop call
 * enterForeground/enterBackground, and with its BackgroundDisconnect policy
 * the node sees the user go offline in background and come back, with what
 * was pushed meanwhile, in foreground.
 */
@RunWith(RobolectricTestRunner.class)
@org.robolectric.annotation.Config(sdk = 34, manifest = org.robolectric.annotation.Config.NONE)
public class ActivityLifecycleTest {
    private PlexNode node;

    @Before
    public void setUp() throws Exception {
        node = PlexNode.start();
    }

    @After
    public void tearDown() throws Exception {
        node.close();
    }

    /** The sample's content view: the TextView it logs events to. */
    private static String screen(Activity a) {
        ViewGroup content = a.findViewById(android.R.id.content);
        return ((TextView) content.getChildAt(0)).getText().toString();
    }

    @Test
    public void lifecycleDrivesForegroundAndBackground() throws Exception {
        Intent intent = new Intent(RuntimeEnvironment.getApplication(), MainActivity.class)
                .putExtra(MainActivity.EXTRA_ADDR, node.addr());
        ActivityController<MainActivity> ctl = Robolectric.buildActivity(MainActivity.class, intent).setup();
        MainActivity a = ctl.get();
        MainLooper.await("online on screen and on the node", () -> screen(a).contains("online") && node.online("alice"));
        MainLooper.await("the sample's echo", () -> screen(a).contains("/echo hello from Android"));
        long seq = node.push("alice", "/hello", "before", true);
        MainLooper.await("a push", () -> screen(a).contains("/hello before #" + seq));

        ctl.pause().stop(); // onStop: enterBackground, saves lastSeq
        MainLooper.await("suspended on screen", () -> screen(a).contains("suspended"));
        MainLooper.await("offline on the node", () -> !node.online("alice"));
        assertEquals("onStop saved lastSeq", seq, a.getPreferences(Activity.MODE_PRIVATE).getLong("plexLastSeq", 0));
        long away = node.push("alice", "/hello", "away", true);
        assertTrue(away > seq);

        ctl.restart().resume(); // onRestart, onStart: enterForeground
        MainLooper.await("online again, with what was pushed meanwhile",
                () -> node.online("alice") && screen(a).contains("/hello away #" + away));
        String text = screen(a);
        assertTrue(text, text.indexOf("suspended") < text.lastIndexOf("connecting"));

        ctl.pause().stop().destroy(); // onDestroy: close
        MainLooper.await("closed on screen", () -> screen(a).contains("closed"));
        MainLooper.await("offline on the node", () -> !node.online("alice"));
    }
}
