package io.arangopipe.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The command-line options; each has an {@code ARANGOPIPE_*} environment variable, and the flag wins. */
@Command(
    name = "arangopipe-server",
    mixinStandardHelpOptions = true,
    versionProvider = CommandLine.Version.class,
    sortOptions = false,
    usageHelpWidth = 120,
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

  @Mixin
  StoreOptions storeOptions = new StoreOptions();

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

  @Option(names = "--auth", defaultValue = "${env:ARANGOPIPE_AUTH:-auto}", paramLabel = "MODE",
      description = "Bearer-token authentication: auto (on when an administrator token is given or users exist),"
          + " on, or off (loopback only). Env ARANGOPIPE_AUTH. Default: ${DEFAULT-VALUE}.")
  String auth;

  @Option(names = "--admin-token-file", defaultValue = "${env:ARANGOPIPE_ADMIN_TOKEN_FILE}", paramLabel = "FILE",
      description = "File holding the first server administrator's token (user \"admin\"), used at first start"
          + " to create it. The token can also come from the environment variable ARANGOPIPE_ADMIN_TOKEN."
          + " Env ARANGOPIPE_ADMIN_TOKEN_FILE.")
  Path adminTokenFile;

  @Option(names = "--tls-cert", defaultValue = "${env:ARANGOPIPE_TLS_CERT}", paramLabel = "FILE",
      description = "Serve TLS with this PEM certificate chain (with --tls-key). Env ARANGOPIPE_TLS_CERT.")
  Path tlsCert;

  @Option(names = "--tls-key", defaultValue = "${env:ARANGOPIPE_TLS_KEY}", paramLabel = "FILE",
      description = "The PEM (PKCS#8) private key of --tls-cert. Env ARANGOPIPE_TLS_KEY.")
  Path tlsKey;

  @Option(names = "--tls-client-ca", defaultValue = "${env:ARANGOPIPE_TLS_CLIENT_CA}", paramLabel = "FILE",
      description = "Verify client certificates against these PEM CAs (mutual TLS). Env ARANGOPIPE_TLS_CLIENT_CA.")
  Path tlsClientCa;

  @Option(names = "--tls-client-auth", defaultValue = "${env:ARANGOPIPE_TLS_CLIENT_AUTH}", paramLabel = "MODE",
      description = "none, optional or require (default: require when --tls-client-ca is given, else none)."
          + " Env ARANGOPIPE_TLS_CLIENT_AUTH.")
  String tlsClientAuth;

  @Option(names = "--max-calls-per-connection", defaultValue = "${env:ARANGOPIPE_MAX_CALLS_PER_CONNECTION:-100}",
      paramLabel = "N", description = "Concurrent calls one client connection may have open."
          + " Env ARANGOPIPE_MAX_CALLS_PER_CONNECTION. Default: ${DEFAULT-VALUE}.")
  int maxCallsPerConnection;

  @Option(names = "--metrics-port", defaultValue = "${env:ARANGOPIPE_METRICS_PORT}", paramLabel = "PORT",
      description = "Serve Prometheus metrics at http://ADDRESS:PORT/metrics (off when not set)."
          + " Env ARANGOPIPE_METRICS_PORT.")
  Integer metricsPort;

  @Option(names = "--metrics-bind", defaultValue = "${env:ARANGOPIPE_METRICS_BIND}", paramLabel = "ADDRESS",
      description = "Address of the metrics port (default: the --bind address). Env ARANGOPIPE_METRICS_BIND.")
  String metricsBind;

  @Option(names = "--log-format", defaultValue = "${env:ARANGOPIPE_LOG_FORMAT:-text}", paramLabel = "FORMAT",
      description = "text, or json for one JSON object per line. Env ARANGOPIPE_LOG_FORMAT. Default: ${DEFAULT-VALUE}.")
  String logFormat;



  @Override
  public ServerConfig call() {
    if (!logFormat.equals("text") && !logFormat.equals("json")) {
      throw new IllegalArgumentException("--log-format must be text or json (got \"" + logFormat + "\")");
    }
    ServerConfig.AuthMode mode;
    try {
      mode = ServerConfig.AuthMode.valueOf(auth.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--auth must be auto, on or off (got \"" + auth + "\")");
    }
    String token = Secrets.read(adminTokenFile, "ARANGOPIPE_ADMIN_TOKEN", "--admin-token-file");
    if (token != null && token.isBlank()) {
      token = null;
    }
    ServerConfig.Tls tls = null;
    if (tlsCert != null || tlsKey != null) {
      if (tlsCert == null || tlsKey == null) {
        throw new IllegalArgumentException("TLS needs both --tls-cert and --tls-key");
      }
      ServerConfig.ClientAuth ca;
      if (tlsClientAuth == null || tlsClientAuth.isBlank()) {
        ca = tlsClientCa == null ? ServerConfig.ClientAuth.NONE : ServerConfig.ClientAuth.REQUIRE;
      } else {
        try {
          ca = ServerConfig.ClientAuth.valueOf(tlsClientAuth.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("--tls-client-auth must be none, optional or require");
        }
      }
      tls = new ServerConfig.Tls(tlsCert, tlsKey, tlsClientCa, ca);
    } else if (tlsClientCa != null) {
      throw new IllegalArgumentException("--tls-client-ca needs --tls-cert and --tls-key");
    }
    return new ServerConfig(port, bind, storeOptions.dataDir(), storeOptions.store(), portFile, threads,
        Duration.ofSeconds(shutdownGraceSeconds), maxBatch, maxMessageSize, allowInsecureRemote, mode, token, tls,
        maxCallsPerConnection, metricsPort, metricsBind == null || metricsBind.isBlank() ? bind : metricsBind,
        logFormat.equals("json"), storeOptions.arango());
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
