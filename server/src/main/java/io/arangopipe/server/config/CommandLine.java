package io.arangopipe.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The command-line options; each has an {@code ARANGOPIPE_*} environment variable, and the flag wins. */
@Command(
    name = "arangopipe-server",
    mixinStandardHelpOptions = true,
    versionProvider = CommandLine.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = "Arangopipe: the metadata layer for machine-learning pipelines, as a gRPC service.",
    footer = {"", "Every option can also be set with the environment variable shown; the flag wins."})
public final class CommandLine implements Callable<ServerConfig> {

  @Option(names = "--port", defaultValue = "${env:ARANGOPIPE_PORT:-6529}", paramLabel = "PORT",
      description = "gRPC port; 0 picks a free one. Env ARANGOPIPE_PORT. Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(names = "--bind", defaultValue = "${env:ARANGOPIPE_BIND:-127.0.0.1}", paramLabel = "ADDRESS",
      description = "Address to listen on. Anything but loopback needs --allow-insecure-remote until"
          + " authentication is configured. Env ARANGOPIPE_BIND. Default: ${DEFAULT-VALUE}.")
  String bind;

  @Option(names = "--data-dir", defaultValue = "${env:ARANGOPIPE_DATA_DIR:-./arangopipe-data}", paramLabel = "DIR",
      description = "Folder of the embedded store (created if missing). Env ARANGOPIPE_DATA_DIR."
          + " Default: ${DEFAULT-VALUE}.")
  Path dataDir;

  @Option(names = "--store", defaultValue = "${env:ARANGOPIPE_STORE:-sqlite}", paramLabel = "KIND",
      description = "Graph store: sqlite (embedded). Env ARANGOPIPE_STORE. Default: ${DEFAULT-VALUE}.")
  String store;

  @Option(names = "--port-file", defaultValue = "${env:ARANGOPIPE_PORT_FILE}", paramLabel = "FILE",
      description = "Write the bound port to FILE once serving (useful with --port 0)."
          + " Env ARANGOPIPE_PORT_FILE.")
  Path portFile;

  @Option(names = "--threads", defaultValue = "${env:ARANGOPIPE_THREADS:-16}", paramLabel = "N",
      description = "Threads serving calls. Env ARANGOPIPE_THREADS. Default: ${DEFAULT-VALUE}.")
  int threads;

  @Option(names = "--shutdown-grace", defaultValue = "${env:ARANGOPIPE_SHUTDOWN_GRACE:-10}", paramLabel = "SECONDS",
      description = "On shutdown, how long in-flight calls may take to finish. Env ARANGOPIPE_SHUTDOWN_GRACE."
          + " Default: ${DEFAULT-VALUE}.")
  long shutdownGraceSeconds;

  @Option(names = "--max-batch", defaultValue = "${env:ARANGOPIPE_MAX_BATCH:-256}", paramLabel = "N",
      description = "Most writes the embedded store commits together (group commit). Env ARANGOPIPE_MAX_BATCH."
          + " Default: ${DEFAULT-VALUE}.")
  int maxBatch;

  @Option(names = "--max-message-size", defaultValue = "${env:ARANGOPIPE_MAX_MESSAGE_SIZE:-4194304}",
      paramLabel = "BYTES",
      description = "Largest request accepted. Env ARANGOPIPE_MAX_MESSAGE_SIZE. Default: ${DEFAULT-VALUE}.")
  int maxMessageSize;

  @Option(names = "--allow-insecure-remote",
      defaultValue = "${env:ARANGOPIPE_ALLOW_INSECURE_REMOTE:-false}",
      description = "Allow --bind beyond loopback without authentication (logged as a warning at every"
          + " start). Env ARANGOPIPE_ALLOW_INSECURE_REMOTE.")
  boolean allowInsecureRemote;

  @Override
  public ServerConfig call() {
    return new ServerConfig(port, bind, dataDir, store, portFile, threads, Duration.ofSeconds(shutdownGraceSeconds),
        maxBatch, maxMessageSize, allowInsecureRemote);
  }

  /** Version from the jar manifest when there is one. */
  public static final class Version implements picocli.CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = CommandLine.class.getPackage().getImplementationVersion();
      return new String[] {"arangopipe-server " + (v == null ? "dev" : v)};
    }
  }
}
