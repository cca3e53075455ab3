package io.arangopipe.client.jmh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The real server jar as a child process on a free loopback port, with a fresh data folder that is deleted
 * when it stops (a benchmark trial writes hundreds of megabytes); {@code -Darangopipe.keepData=true} keeps it.
 */
final class ServerProcess implements AutoCloseable {
  final Path dir;
  final int port;
  private final Process process;

  ServerProcess() throws IOException, InterruptedException {
    Path jar = Paths.get(System.getProperty("arangopipe.serverJar", "server/target/arangopipe-server.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("no server jar at " + jar.toAbsolutePath() + ": build it (mvn -B package"
          + " -DskipTests) and run from the repository root, or pass -jvmArgsAppend -Darangopipe.serverJar=PATH");
    }
    dir = Files.createTempDirectory("arangopipe-bench");
    Path portFile = dir.resolve("port");
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    // e.g. -Darangopipe.serverJvmArgs="-XX:StartFlightRecording=filename=/tmp/server.jfr" to profile the server
    String jvmArgs = System.getProperty("arangopipe.serverJvmArgs", "").trim();
    if (!jvmArgs.isEmpty()) {
      cmd.addAll(Arrays.asList(jvmArgs.split("\\s+")));
    }
    cmd.addAll(List.of("-jar", jar.toString(), "--port", "0", "--port-file", portFile.toString(),
        "--data-dir", dir.resolve("data").toString()));
    process = new ProcessBuilder(cmd)
        .redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile()).start();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(portFile)) {
      if (!process.isAlive() || System.nanoTime() - end > 0) {
        process.destroyForcibly();
        throw new IllegalStateException("the server did not start; see " + dir.resolve("server.log"));
      }
      Thread.sleep(50);
    }
    port = Integer.parseInt(Files.readString(portFile, StandardCharsets.UTF_8).trim());
  }

  String target() {
    return "127.0.0.1:" + port;
  }

  @Override
  public void close() throws InterruptedException, IOException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (Boolean.getBoolean("arangopipe.keepData")) {
      System.out.println("server log and data kept in " + dir);
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
