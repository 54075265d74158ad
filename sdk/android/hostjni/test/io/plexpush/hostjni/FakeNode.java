package io.plexpush.hostjni;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A scripted plex node for what plexd cannot be asked to do in a test (plexd
 * turns messages on only for an app the SDK does not log in to): one
 * connection at a time, JSON frames, big-endian. It answers /auth/server
 * with /auth/success and each /message with the next reply of
 * {@link #replies}: "reply BODY" (a /reply) or "error CODE" (an /error).
 */
final class FakeNode implements AutoCloseable {
    private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");
    private static final Pattern URI = Pattern.compile("\"uri\":\"([^\"]*)\"");

    final LinkedBlockingQueue<String> replies = new LinkedBlockingQueue<>();
    /** The frames received, as JSON text. */
    final LinkedBlockingQueue<String> frames = new LinkedBlockingQueue<>();
    private final ServerSocket server;
    private final Thread thread;

    FakeNode() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        thread = new Thread(this::serve, "fake-node");
        thread.setDaemon(true);
        thread.start();
    }

    String addr() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    private void serve() {
        while (!server.isClosed()) {
            try (Socket s = server.accept()) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                for (;;) {
                    byte[] b = new byte[in.readInt()];
                    in.readFully(b);
                    String f = new String(b, StandardCharsets.UTF_8);
                    Matcher u = URI.matcher(f);
                    String uri = u.find() ? u.group(1) : "";
                    if (uri.equals("/auth/server")) {
                        write(out, "{\"uri\":\"/auth/success\",\"body\":\"{\\\"uid\\\":\\\"alice\\\",\\\"heartbeat_ms\\\":30000,\\\"timeout_ms\\\":75000}\"}");
                    } else if (uri.equals("/message")) {
                        frames.add(f);
                        Matcher m = SEQ.matcher(f);
                        String seq = m.find() ? m.group(1) : "0";
                        String r = replies.take();
                        if (r.startsWith("reply ")) {
                            String body = r.substring(6).replace("\"", "\\\"");
                            write(out, "{\"seq\":" + seq + ",\"uri\":\"/reply\",\"body\":\"" + body + "\"}");
                        } else {
                            String code = r.substring(6);
                            write(out, "{\"seq\":" + seq + ",\"uri\":\"/error\",\"body\":\"no\",\"meta\":{\"code\":\"" + code + "\",\"reason\":\"no\"}}");
                        }
                    }
                }
            } catch (IOException | InterruptedException e) {
                // the client closed, or the node is closing
            }
        }
    }

    private static void write(DataOutputStream out, String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
