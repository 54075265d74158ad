package io.plexpush.sample;

import android.app.Activity;
import android.content.SharedPreferences;
import android.os.Bundle;
import android.widget.TextView;
import io.plexpush.LogcatLogger;
import io.plexpush.MainThreadExecutor;
import io.plexpush.PlexClient;
import io.plexpush.PlexException;
import io.plexpush.PlexListener;
import io.plexpush.plexmobile.Config;
import io.plexpush.plexmobile.Plexmobile;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Connects to a plex node as user "alice", shows every event, echoes one
 * message upstream once connected, and follows the activity lifecycle.
 *
 * <p>Run a node on the development machine, reachable from the emulator
 * (which sees the host's loopback as 10.0.2.2):
 * {@code go run ./cmd/plexd -addr 0.0.0.0:9578 -http 0.0.0.0:9579 -force -upstream echo},
 * or start the activity with the extra {@value #EXTRA_ADDR}, then push: {@code curl -H 'Authorization: Bearer <secret>' -d '{"uid":"alice","uri":"/hello","body":"hi","persist":true}' http://127.0.0.1:9579/plex/v1/push}.
 */
public class MainActivity extends Activity {
    /** The node to dial; the launching intent's extra {@link #EXTRA_ADDR} overrides it. */
    private static final String PLEX_ADDR = "10.0.2.2:9578";
    /** {@code adb shell am start -n io.plexpush.sample/.MainActivity -e plex.addr 192.168.1.10:9578} */
    public static final String EXTRA_ADDR = "plex.addr";
    private static final String LAST_SEQ = "plexLastSeq";

    private final ExecutorService io = Executors.newSingleThreadExecutor(); // send() blocks: never on the main thread
    private TextView log;
    private PlexClient plex;

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        log = new TextView(this);
        setContentView(log);

        Config cfg = new Config();
        String addr = getIntent() == null ? null : getIntent().getStringExtra(EXTRA_ADDR);
        cfg.setAddrs(addr != null ? addr : PLEX_ADDR);
        cfg.setToken("alice"); // plexd -auth none: the token is the uid
        cfg.setDevice("sample-device"); // use a stable installation id in a real app
        cfg.setLastSeq(getPreferences(MODE_PRIVATE).getLong(LAST_SEQ, 0));
        // Vendor push (FCM) covers the background. An app that stays connected
        // in background would use Plexmobile.BackgroundSlowHeartbeat instead.
        cfg.setBackgroundPolicy(Plexmobile.BackgroundDisconnect);
        try {
            plex = new PlexClient(cfg, listener, new MainThreadExecutor());
            plex.setLogger(new LogcatLogger("plex-sample"));
            plex.connect();
        } catch (PlexException e) {
            log.append("cannot start: " + e.getMessage() + "\n");
        }
    }

    private final PlexListener listener = new PlexListener() {
        @Override
        public void onStateChanged(PlexClient client, int state, int code, String reason, long delayMs) {
            log.append(stateName(state) + (code != 0 ? " " + code : "") + (reason.isEmpty() ? "" : " " + reason)
                    + (delayMs > 0 ? " (next attempt in " + delayMs + " ms)" : "") + "\n");
        }

        @Override
        public void onOnline(final PlexClient client) {
            io.execute(() -> {
                try {
                    client.send("/echo", "hello from Android");
                } catch (PlexException e) {
                    runOnUiThread(() -> log.append("send: " + e.getMessage() + "\n"));
                }
            });
        }

        @Override
        public void onMessage(PlexClient client, String uri, byte[] body, long seq) {
            log.append(uri + " " + new String(body, StandardCharsets.UTF_8) + (seq > 0 ? " #" + seq : "") + "\n");
        }
    };

    /** The names of docs/protocol.md §13.6. */
    static String stateName(int state) {
        switch (state) {
            case PlexClient.CONNECTING:
                return "connecting";
            case PlexClient.ONLINE:
                return "online";
            case PlexClient.RECONNECTING:
                return "reconnecting";
            case PlexClient.SUSPENDED:
                return "suspended";
            case PlexClient.CLOSED:
                return "closed";
            default:
                return "state " + state;
        }
    }

    @Override
    protected void onStart() {
        super.onStart();
        if (plex != null) {
            plex.enterForeground();
        }
    }

    @Override
    protected void onStop() {
        if (plex != null) {
            plex.enterBackground();
            SharedPreferences.Editor e = getPreferences(MODE_PRIVATE).edit();
            e.putLong(LAST_SEQ, plex.lastSeq());
            e.apply();
        }
        super.onStop();
    }

    @Override
    protected void onDestroy() {
        if (plex != null) {
            plex.close();
        }
        io.shutdown();
        super.onDestroy();
    }
}
