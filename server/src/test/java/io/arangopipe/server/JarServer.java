package io.arangopipe.server;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.arangopipe.v1.AdminServiceGrpc;
import io.arangopipe.v1.LineageServiceGrpc;
import io.arangopipe.v1.TrackingServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real server jar as a child process on a free loopback port, for the end-to-end and fault tests.
 *
 * <p>The server's output goes through a pipe to a thread of this JVM that writes the log file, not straight
 * into a file: a file-size limit ({@code prlimit --fsize}) put on the server must hit its database, not its
 * log. Every wait is bounded and fails only when the bound is hit; there are no timing thresholds.
 */
public final class JarServer implements AutoCloseable {
  public static final Duration CALL_DEADLINE = Duration.ofSeconds(30);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final int SIGKILL_EXIT = 128 + 9;
  private static final Pattern METRICS_LINE = Pattern.compile("Prometheus metrics on http://[^:]+:(\\d+)/metrics");

  public final String name;
  public final Process process;
  public final Path log;
  public final List<String> lines = new CopyOnWriteArrayList<>();
  private final Thread pump;
  private final List<ManagedChannel> channels = new ArrayList<>();
  public final ManagedChannel channel;
  public final int port;

  private JarServer(String name, Process process, Path log, Path portFile) throws Exception {
    this.name = name;
    this.process = process;
    this.log = log;
    this.pump = new Thread(this::pumpOutput, "log-pump-" + name);
    pump.setDaemon(true);
    pump.start();
    this.port = awaitPort(portFile);
    this.channel = newChannel();
  }

  /**
   * Starts the jar with {@code --port 0}, the data folder and the extra arguments, and waits until every
   * service reports SERVING.
   */
  public static JarServer start(String name, Path dataDir, Path workDir, String... extraArgs) throws Exception {
    Path portFile = workDir.resolve("port-" + name);
    Files.deleteIfExists(portFile);
    Path log = workDir.resolve("server-" + name + ".log");
    List<String> cmd = new ArrayList<>(List.of(javaExecutable(), "-Xmx512m", "-jar", serverJar().toString(),
        "--port", "0", "--port-file", portFile.toString(), "--data-dir", dataDir.toString()));
    cmd.addAll(List.of(extraArgs));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("ARANGOPIPE_"));
    JarServer s = new JarServer(name, pb.start(), log, portFile);
    try {
      for (String service : concat("", ArangopipeServer.SERVICE_NAMES)) {
        assertThat(s.health(service)).as("health of '%s' at start", service).isEqualTo(ServingStatus.SERVING);
      }
    } catch (RuntimeException | AssertionError e) {
      s.close();
      throw e;
    }
    return s;
  }

  private static List<String> concat(String first, List<String> rest) {
    List<String> out = new ArrayList<>(List.of(first));
    out.addAll(rest);
    return out;
  }

  private void pumpOutput() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        BufferedWriter out = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        lines.add(line);
        out.write(line);
        out.newLine();
        out.flush();
      }
    } catch (IOException e) {
      lines.add("(log pump: " + e + ")");
    }
  }

  public long pid() {
    return process.pid();
  }

  /** A new channel to the server; closed with it. Each simulated client gets its own connection. */
  public ManagedChannel newChannel() {
    ManagedChannel c = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    synchronized (channels) {
      channels.add(c);
    }
    return c;
  }

  public AdminServiceGrpc.AdminServiceBlockingStub admin() {
    return AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), MILLISECONDS);
  }

  public TrackingServiceGrpc.TrackingServiceBlockingStub tracking() {
    return tracking(channel);
  }

  public static TrackingServiceGrpc.TrackingServiceBlockingStub tracking(ManagedChannel c) {
    return TrackingServiceGrpc.newBlockingStub(c).withDeadlineAfter(CALL_DEADLINE.toMillis(), MILLISECONDS);
  }

  public LineageServiceGrpc.LineageServiceBlockingStub lineage() {
    return LineageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), MILLISECONDS);
  }

  public ServingStatus health(String service) {
    return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), MILLISECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
  }

  /** Every service, and the whole server, answer SERVING. */
  public void assertServing(String when) {
    for (String service : concat("", ArangopipeServer.SERVICE_NAMES)) {
      assertThat(health(service)).as("health of '%s' %s", service, when).isEqualTo(ServingStatus.SERVING);
    }
  }

  /** The Prometheus port the server logged (started with {@code --metrics-port 0}). */
  public int metricsPort() throws InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      for (String line : lines) {
        Matcher m = METRICS_LINE.matcher(line);
        if (m.find()) {
          return Integer.parseInt(m.group(1));
        }
      }
      Thread.sleep(50);
    }
    return fail("server " + name + " logged no metrics port; log:\n" + tail());
  }

  /**
   * One scrape of the Prometheus endpoint: each sample line's name with its labels (as written) to its
   * value.
   */
  public Map<String, Double> scrape() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(CALL_DEADLINE).build();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort()
        + "/metrics")).timeout(CALL_DEADLINE).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET /metrics").isEqualTo(200);
    Map<String, Double> out = new HashMap<>();
    for (String line : r.body().split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
    }
    return out;
  }

  /** The sum of every sample of a metric whose labels contain all the given {@code key="value"} pieces. */
  public static double sum(Map<String, Double> samples, String metric, String... labels) {
    double total = 0;
    for (Map.Entry<String, Double> e : samples.entrySet()) {
      String key = e.getKey();
      String bare = key.contains("{") ? key.substring(0, key.indexOf('{')) : key;
      if (!bare.equals(metric)) {
        continue;
      }
      boolean all = true;
      for (String l : labels) {
        all &= key.contains(l);
      }
      if (all) {
        total += e.getValue();
      }
    }
    return total;
  }

  /** {@code kill -9}, and check that the process died of SIGKILL. */
  public void kill9() throws Exception {
    long pid = process.pid();
    Process kill = new ProcessBuilder("kill", "-9", Long.toString(pid)).redirectErrorStream(true).start();
    assertThat(kill.waitFor(30, SECONDS)).as("kill -9 %s finished", pid).isTrue();
    assertThat(kill.exitValue()).as("kill -9 %s", pid).isZero();
    assertThat(process.waitFor(60, SECONDS)).as("server %s died", name).isTrue();
    assertThat(process.exitValue()).as("exit status of server %s", name).isEqualTo(SIGKILL_EXIT);
    closeChannels();
  }

  /** SIGTERM, a graceful stop: the server must exit by itself, with status 0 or 143 (the JVM's on SIGTERM). */
  public void stop() throws Exception {
    closeChannels();
    process.destroy();
    assertThat(process.waitFor(60, SECONDS)).as("server %s stopped after SIGTERM", name).isTrue();
    assertThat(process.exitValue()).as("exit status of server %s after SIGTERM", name).isIn(0, 143);
    pump.join(10_000);
  }

  /** Server log lines at ERROR level. */
  public List<String> errorLines() {
    return lines.stream().filter(l -> l.contains(" ERROR ")).toList();
  }

  public String tail() {
    List<String> all = List.copyOf(lines);
    return String.join("\n", all.subList(Math.max(0, all.size() - 80), all.size()));
  }

  private void closeChannels() {
    List<ManagedChannel> copy;
    synchronized (channels) {
      copy = List.copyOf(channels);
      channels.clear();
    }
    for (ManagedChannel c : copy) {
      c.shutdownNow();
    }
    for (ManagedChannel c : copy) {
      try {
        c.awaitTermination(5, SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    closeChannels();
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(30, SECONDS)) {
          process.destroyForcibly();
          process.waitFor(10, SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }

  private int awaitPort(Path portFile) throws Exception {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    Integer previous = null;
    while (true) {
      Integer p = readPort(portFile);
      if (p != null && p.equals(previous)) { // the same value twice: not a half-written file
        return p;
      }
      previous = p;
      if (!process.isAlive()) {
        fail("server " + name + " exited with " + process.exitValue() + " before writing its port file; log:\n"
            + tail());
      }
      if (System.nanoTime() > deadline) {
        process.destroyForcibly();
        fail("server " + name + " wrote no port file within " + START_TIMEOUT + "; log:\n" + tail());
      }
      Thread.sleep(50);
    }
  }

  private static Integer readPort(Path portFile) throws IOException {
    if (!Files.exists(portFile)) {
      return null;
    }
    try {
      int p = Integer.parseInt(Files.readString(portFile, StandardCharsets.UTF_8).trim());
      return p > 0 && p < 65536 ? p : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  public static Path serverJar() {
    String prop = System.getProperty("arangopipe.serverJar");
    Path jar = prop != null && !prop.isBlank() ? Path.of(prop) : Path.of("target", "arangopipe-server.jar");
    assertThat(jar).as("the server jar (system property arangopipe.serverJar); build it with mvn package")
        .isRegularFile();
    return jar.toAbsolutePath();
  }

  private static String javaExecutable() {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    return Files.isExecutable(java) ? java.toString() : ProcessHandle.current().info().command().orElse("java");
  }
}
