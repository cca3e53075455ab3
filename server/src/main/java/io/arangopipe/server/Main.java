package io.arangopipe.server;

import io.arangopipe.server.config.CommandLine;
import io.arangopipe.server.config.ServerConfig;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java -jar arangopipe-server.jar [options]}; {@code --help} lists the options. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    picocli.CommandLine cli = new picocli.CommandLine(new CommandLine());
    ServerConfig config;
    try {
      picocli.CommandLine.ParseResult parsed = cli.parseArgs(args);
      if (cli.isUsageHelpRequested()) {
        cli.usage(System.out);
        return;
      }
      if (cli.isVersionHelpRequested()) {
        cli.printVersionHelp(System.out);
        return;
      }
      config = ((CommandLine) cli.getCommand()).call();
    } catch (picocli.CommandLine.ParameterException e) {
      System.err.println("arangopipe-server: " + e.getMessage());
      System.err.println("Run with --help to see the options.");
      System.exit(2);
      return;
    } catch (IllegalArgumentException e) {
      System.err.println("arangopipe-server: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (config.jsonLogs()) {
      // Chosen before the first logger exists, so logback reads the JSON configuration.
      System.setProperty("logback.configurationFile", "logback-json.xml");
    }
    Logger log = LoggerFactory.getLogger(Main.class);
    if (config.allowInsecureRemote() && !ServerConfig.isLoopback(config.bind())) {
      log.warn("INSECURE: serving on {} WITHOUT AUTHENTICATION (--allow-insecure-remote); anyone who can reach"
          + " this port can read and change all metadata", config.bind());
    }
    ArangopipeServer server;
    try {
      server = new ArangopipeServer(config, null);
    } catch (IllegalStateException e) {
      System.err.println("arangopipe-server: " + e.getMessage());
      System.exit(1);
      return;
    } catch (Exception e) {
      System.err.println("arangopipe-server: cannot start: " + e.getMessage());
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("shutting down");
      server.close();
      stopped.countDown();
    }, "arangopipe-shutdown"));
    log.info("Arangopipe serving on {}:{} ({}, authentication {}, store: {})", config.bind(), server.port(),
        config.tls() == null ? "plaintext" : "TLS", server.authEnabled() ? "on" : "off", server.storeDescription());
    if (server.metricsPort() > 0) {
      log.info("Prometheus metrics on http://{}:{}/metrics", config.metricsBind(), server.metricsPort());
    }
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
