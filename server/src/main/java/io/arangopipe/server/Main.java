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
    picocli.CommandLine cli = new picocli.CommandLine(new CommandLine())
        .addSubcommand("export", new ExportCommand())
        .addSubcommand("import", new ImportCommand());
    ServerConfig config;
    try {
      picocli.CommandLine.ParseResult parsed = cli.parseArgs(args);
      if (parsed.hasSubcommand()) {
        System.exit(runSubcommand(parsed));
        return;
      }
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
      picocli.CommandLine where = e.getCommandLine();
      System.err.println("Run with " + (where == cli ? "" : where.getCommandName() + " ")
          + "--help to see the options.");
      System.exit(2);
      return;
    } catch (IllegalArgumentException e) {
      System.err.println("arangopipe-server: " + e.getMessage());
      System.exit(2);
      return;
    }
    serve(config);
  }

  /** Runs {@code export} or {@code import}; returns the exit status. */
  private static int runSubcommand(picocli.CommandLine.ParseResult parsed) {
    if (!parsed.matchedOptions().isEmpty()) {
      System.err.println("arangopipe-server: options go after the command name, e.g. \"export --data-dir DIR\"");
      return 2;
    }
    picocli.CommandLine.ParseResult sub = parsed.subcommand();
    picocli.CommandLine cmd = sub.commandSpec().commandLine();
    if (cmd.isUsageHelpRequested()) {
      cmd.usage(System.out);
      return 0;
    }
    if (cmd.isVersionHelpRequested()) {
      cmd.printVersionHelp(System.out);
      return 0;
    }
    try {
      @SuppressWarnings("unchecked")
      java.util.concurrent.Callable<Integer> command = (java.util.concurrent.Callable<Integer>) cmd.getCommand();
      return command.call();
    } catch (Exception e) {
      System.err.println("arangopipe-server " + cmd.getCommandName() + ": failed: " + e);
      return 1;
    }
  }

  private static void serve(ServerConfig config) {
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
