package io.plexpush.hostjni;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import android.util.Log;
import io.plexpush.LogcatLogger;
import io.plexpush.PlexClient;
import io.plexpush.PlexListener;
import io.plexpush.plexmobile.Config;
import io.plexpush.plexmobile.Plexmobile;
import java.util.ArrayList;
import java.util.List;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.robolectric.RobolectricTestRunner;
import org.robolectric.shadows.ShadowLog;

/** LogcatLogger writes to the real android.util.Log (ShadowLog records it). */
@RunWith(RobolectricTestRunner.class)
@org.robolectric.annotation.Config(sdk = 34, manifest = org.robolectric.annotation.Config.NONE)
public class LogcatLoggerTest {
    private PlexNode node;

    @Before
    public void setUp() throws Exception {
        ShadowLog.clear();
        node = PlexNode.start();
    }

    @After
    public void tearDown() throws Exception {
        node.close();
    }

    private static List<String> lines(String tag) {
        List<String> out = new ArrayList<>();
        for (ShadowLog.LogItem it : ShadowLog.getLogsForTag(tag)) {
            out.add(it.type + " " + it.msg);
        }
        return out;
    }

    @Test
    public void levelsMapToLogPriorities() {
        LogcatLogger l = new LogcatLogger("plex-levels");
        l.log(Plexmobile.LogError, "e");
        l.log(Plexmobile.LogWarn, "w");
        l.log(Plexmobile.LogInfo, "i");
        l.log(Plexmobile.LogDebug, "d");
        l.log(Plexmobile.LogError + 4, "above error"); // "compare with >=" (plexmobile.Logger)
        List<String> want = new ArrayList<>();
        want.add(Log.ERROR + " e");
        want.add(Log.WARN + " w");
        want.add(Log.INFO + " i");
        want.add(Log.DEBUG + " d");
        want.add(Log.ERROR + " above error");
        assertEquals(want, lines("plex-levels"));
        assertEquals("the default tag", 0, ShadowLog.getLogsForTag("plex").size());
    }

    /** The SDK's own lines, from its Go threads, reach logcat under the tag; the token never does. */
    @Test
    public void theSdksLinesReachLogcat() throws Exception {
        Config cfg = new Config();
        cfg.setAddrs(node.addr());
        cfg.setToken("carol");
        cfg.setDevice("robolectric-2");
        PlexClient plex = new PlexClient(cfg, new PlexListener() {});
        plex.setLogger(new LogcatLogger());
        plex.connect();
        MainLooper.await("an info line saying online", () -> {
            for (String s : lines("plex")) {
                if (s.startsWith(Log.INFO + " ") && s.contains("online")) {
                    return true;
                }
            }
            return false;
        });
        plex.close();
        assertTrue(plex.state() == PlexClient.CLOSED);
        for (String s : lines("plex")) {
            assertFalse("no token in " + s, s.contains("token=carol"));
        }
    }
}
