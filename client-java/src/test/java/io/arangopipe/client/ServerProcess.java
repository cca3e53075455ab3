package io.arangopipe.client;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real server jar as a child process, for the *IT tests. */
final class ServerProcess implements AutoCloseable {
  private static final long START_TIMEOUT_MILLIS = 60_000;

  final int port;
  final Path log;
  private final Process process;

  private ServerProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  static Path jar() {
    String p = System.getProperty("arangopipe.serverJar");
    if (p == null) {
      throw new IllegalStateException("run the *IT tests through maven-failsafe: it sets arangopipe.serverJar");
    }
    Path jar = Paths.get(p);
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("no server jar at " + jar + "; build the server module first");
    }
    return jar;
  }

  /** A port that was free a moment ago. */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  /**
   * Starts the server on the port (0 for any) with the data folder, and waits (bounded) until it writes
   * its port file. A port still held by the previous process is tried again until the timeout.
   */
  static ServerProcess start(int port, Path dataDir, Path workDir, String name, String... extraArgs)
      throws Exception {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
    int attempt = 0;
    while (true) {
      attempt++;
      Path portFile = workDir.resolve(name + "-" + attempt + ".port");
      Path log = workDir.resolve(name + "-" + attempt + ".log");
      String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
      List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "-jar", jar().toString(), "--port",
          Integer.toString(port), "--port-file", portFile.toString(), "--data-dir", dataDir.toString()));
      command.addAll(List.of(extraArgs));
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
      pb.environment().keySet().removeIf(k -> k.startsWith("ARANGOPIPE_"));
      Process p = pb.start();
      while (System.nanoTime() - end < 0) {
        if (Files.exists(portFile)) {
          int bound = Integer.parseInt(Files.readString(portFile, StandardCharsets.UTF_8).trim());
          return new ServerProcess(p, bound, log);
        }
        if (!p.isAlive()) {
          break;
        }
        Thread.sleep(50);
      }
      if (p.isAlive()) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IllegalStateException("the server did not start within " + START_TIMEOUT_MILLIS + " ms; log "
            + log + ":\n" + Files.readString(log));
      }
      String out = Files.readString(log);
      if (System.nanoTime() - end >= 0 || !out.contains("ddress already in use")) {
        throw new IllegalStateException("the server exited with " + p.exitValue() + "; log " + log + ":\n" + out);
      }
      Thread.sleep(200); // the old process's socket is still going away
    }
  }

  String target() {
    return "127.0.0.1:" + port;
  }

  /** SIGKILL: no shutdown hook, no graceful stop. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: the server's graceful shutdown. */
  void terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      terminate();
    }
  }
}
