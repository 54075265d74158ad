package io.plexpush.hostjni;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real plex node for the tests: the plexd binary that sdk/android/ci.sh
 * built (system property plex.plexd), on loopback, with test timings
 * (heartbeat 1 s, timeout 3 s) and an echoing upstream handler. Pushes go
 * through its HTTP API, like a business service's would.
 */
final class PlexNode implements AutoCloseable {
    static final String SECRET = "S";
    private static final Pattern ADDR = Pattern.compile("\"addr\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern HTTP = Pattern.compile("\"http\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern SEQ = Pattern.compile("\"seq\"\\s*:\\s*(\\d+)");

    private final Path dir;
    private Process process;
    private String addr;
    private String http;
    private int starts;

    private PlexNode() throws IOException {
        dir = Files.createTempDirectory("plexd-test");
    }

    /** Starts a node on a free port. */
    static PlexNode start() throws Exception {
        PlexNode n = new PlexNode();
        n.launch("127.0.0.1:0");
        return n;
    }

    /** The TCP address apps dial. */
    String addr() {
        return addr;
    }

    /** Kills the node with SIGKILL: no /disconnect, sockets reset by the kernel. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor();
            process = null;
        }
    }

    /** Starts the node again on the same TCP address (after kill). */
    void restart() throws Exception {
        kill();
        launch(addr);
    }

    /** POSTs a push request (JSON) and returns the Outcome body. */
    String push(String json) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL("http://" + http + "/plex/v1/push").openConnection();
        try {
            c.setRequestMethod("POST");
            c.setRequestProperty("Authorization", "Bearer " + SECRET);
            c.setRequestProperty("Content-Type", "application/json");
            c.setRequestProperty("Connection", "close"); // no JDK keep-alive thread in the thread-leak test
            c.setConnectTimeout(5000);
            c.setReadTimeout(5000);
            c.setDoOutput(true);
            try (OutputStream o = c.getOutputStream()) {
                o.write(json.getBytes(StandardCharsets.UTF_8));
            }
            int status = c.getResponseCode();
            InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream();
            String body = in == null ? "" : read(in);
            if (status != 200) {
                throw new IOException("push " + json + ": HTTP " + status + " " + body);
            }
            return body;
        } finally {
            c.disconnect();
        }
    }

    /** Pushes to uid and returns the push's seq (0 for a transient push). */
    long push(String uid, String uri, String body, boolean persist) throws IOException {
        String out = push("{\"uid\":\"" + uid + "\",\"uri\":\"" + uri + "\",\"body\":\"" + body + "\",\"persist\":" + persist + "}");
        Matcher m = SEQ.matcher(out);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** Whether the node holds a connection of uid (GET /plex/v1/online). */
    boolean online(String uid) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL("http://" + http + "/plex/v1/online?uid=" + uid).openConnection();
        try {
            c.setRequestProperty("Authorization", "Bearer " + SECRET);
            c.setRequestProperty("Connection", "close");
            c.setConnectTimeout(5000);
            c.setReadTimeout(5000);
            int status = c.getResponseCode();
            String body = read(status < 400 ? c.getInputStream() : c.getErrorStream());
            if (status != 200) {
                throw new IOException("online " + uid + ": HTTP " + status + " " + body);
            }
            return body.replace(" ", "").contains("\"" + uid + "\":true");
        } finally {
            c.disconnect();
        }
    }

    /** The node's log so far (for failure messages). */
    String log() {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= starts; i++) {
            try {
                b.append("--- plexd run ").append(i).append(" ---\n")
                        .append(new String(Files.readAllBytes(dir.resolve("plexd-" + i + ".log")), StandardCharsets.UTF_8));
            } catch (IOException e) {
                b.append(e).append('\n');
            }
        }
        return b.toString();
    }

    @Override
    public void close() throws IOException {
        try {
            kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    private void launch(String tcpAddr) throws Exception {
        String plexd = System.getProperty("plex.plexd");
        if (plexd == null || !Files.isExecutable(Path.of(plexd))) {
            throw new IllegalStateException("system property plex.plexd must name the plexd binary (sdk/android/ci.sh builds it): " + plexd);
        }
        starts++;
        Path ready = dir.resolve("ready-" + starts + ".json");
        List<String> cmd = new ArrayList<>(Arrays.asList(plexd,
                "-addr", tcpAddr, "-http", "127.0.0.1:0", "-auth", "none", "-inner-secret", SECRET,
                "-heartbeat", "1s", "-heartbeat-timeout", "3s", "-upstream", "echo",
                "-ready-file", ready.toString(), "-log-level", "info",
                // One data directory for every start of this node, so that a
                // restart finds its store (plexd's default depends on the port).
                "-data-dir", dir.resolve("data").toString()));
        Path log = dir.resolve("plexd-" + starts + ".log");
        // The port of a node that just died may be busy for a moment: retry.
        for (int attempt = 1; ; attempt++) {
            process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!Files.exists(ready) && process.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            if (Files.exists(ready)) {
                break;
            }
            process.destroyForcibly();
            process.waitFor();
            if (attempt == 20) {
                throw new IllegalStateException("plexd did not start on " + tcpAddr + ":\n" + log());
            }
            Thread.sleep(100);
        }
        String json = new String(Files.readAllBytes(ready), StandardCharsets.UTF_8);
        Matcher a = ADDR.matcher(json);
        Matcher h = HTTP.matcher(json);
        if (!a.find() || !h.find()) {
            throw new IllegalStateException("ready file without addr/http: " + json);
        }
        addr = a.group(1);
        http = h.group(1);
    }

    private static String read(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        for (int n; (n = in.read(buf)) > 0; ) {
            b.write(buf, 0, n);
        }
        in.close();
        return b.toString("UTF-8");
    }
}
