package skiptrace.neo4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * Runs an in-process Neo4j Community DBMS with a Bolt connector for tests.
 *
 * <p>Usage: {@code Launcher --port N --dir PATH [--pagecache SIZE]}. Bolt listens on 127.0.0.1:N
 * without auth or TLS; HTTP is off; all files live under PATH (the databases in PATH/data/databases,
 * their transaction logs in PATH/data/transactions: the layout {@code neo4j-admin} uses with
 * {@code NEO4J_HOME=PATH}, so a database bulk-imported there is the one this server opens). The
 * page cache is 256 MB unless {@code --pagecache} gives a size ({@code 8g}, {@code 512m}, bytes). Once Bolt accepts connections the launcher
 * prints exactly one line, {@code READY bolt://127.0.0.1:N}, to stdout (everything else goes
 * to stderr). It shuts the DBMS down cleanly on SIGTERM and exits when its stdin reaches EOF,
 * so it never outlives the process that started it.
 */
public final class Launcher {

    private static final long DEFAULT_PAGE_CACHE_BYTES = 256L * 1024 * 1024;
    private static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(5);

    private Launcher() {
    }

    public static void main(String[] args) {
        PrintStream stdout = System.out;
        System.setOut(System.err); // keep stdout for the READY line only
        try {
            run(args, stdout);
        } catch (UsageException e) {
            System.err.println("usage: Launcher --port N --dir PATH [--pagecache SIZE] (" + e.getMessage() + ")");
            System.exit(2);
        } catch (Throwable t) {
            System.err.println("neo4j launcher failed: " + t);
            t.printStackTrace(System.err);
            System.exit(1);
        }
    }

    private static void run(String[] args, PrintStream stdout) throws Exception {
        int port = -1;
        Path dir = null;
        long pageCache = DEFAULT_PAGE_CACHE_BYTES;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (i + 1 >= args.length) {
                throw new UsageException("missing value for " + arg);
            }
            switch (arg) {
                case "--port" -> port = parsePort(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]).toAbsolutePath();
                case "--pagecache" -> pageCache = parseSize(args[++i]);
                default -> throw new UsageException("unknown argument " + arg);
            }
        }
        if (port < 0 || dir == null) {
            throw new UsageException("--port and --dir are required");
        }

        CountDownLatch stopped = new CountDownLatch(1);
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(dir)
                .setUserLogProvider(new Log4jLogProvider(System.err, Level.INFO))
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                // a test server: don't spend 2 x 5 s draining Bolt threads at shutdown
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, pageCache)
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "1 files")
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                .build();

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                dbms.shutdown();
            } catch (Throwable t) {
                System.err.println("neo4j shutdown failed: " + t);
            } finally {
                stopped.countDown();
            }
        }, "neo4j-shutdown"));

        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        String dbName = GraphDatabaseSettings.DEFAULT_DATABASE_NAME;
        while (!dbms.database(dbName).isAvailable(1000)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("database " + dbName + " did not become available");
            }
        }
        waitForPort(port, deadline);

        watchStdin();
        stdout.println("READY bolt://127.0.0.1:" + port);
        stdout.flush();
        stopped.await();
    }

    /** Exits the JVM (running the shutdown hook) once stdin reaches EOF. */
    private static void watchStdin() {
        Thread watcher = new Thread(() -> {
            InputStream in = System.in;
            byte[] buf = new byte[256];
            try {
                while (in.read(buf) >= 0) {
                    // ignore input; only EOF matters
                }
            } catch (IOException ignored) {
                // a broken stdin means the parent is gone, too
            }
            System.err.println("stdin closed; shutting down");
            System.exit(0);
        }, "stdin-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }

    private static void waitForPort(int port, long deadlineNanos) throws InterruptedException {
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadlineNanos) {
                    throw new IllegalStateException("bolt port " + port + " never accepted connections", e);
                }
                TimeUnit.MILLISECONDS.sleep(100);
            }
        }
    }

    private static long parseSize(String text) throws UsageException {
        try {
            long bytes = ByteUnit.parse(text);
            if (bytes <= 0) {
                throw new UsageException("size must be positive: " + text);
            }
            return bytes;
        } catch (IllegalArgumentException e) {
            throw new UsageException("not a size (e.g. 8g, 512m): " + text);
        }
    }

    private static int parsePort(String text) throws UsageException {
        try {
            int port = Integer.parseInt(text);
            if (port <= 0 || port > 65535) {
                throw new UsageException("port out of range: " + text);
            }
            return port;
        } catch (NumberFormatException e) {
            throw new UsageException("not a port: " + text);
        }
    }

    private static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }
}
