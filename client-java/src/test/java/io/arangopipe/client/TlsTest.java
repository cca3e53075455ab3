package io.arangopipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arangopipe.server.ArangopipeServer;
import io.arangopipe.server.config.ServerConfig;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.TlsServerCredentials;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS and mutual TLS over a real socket: the real server (in this JVM) behind Netty with the test CA's
 * certificates (src/test/resources/tls), requiring a client certificate.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TlsTest {
  @TempDir Path dir;
  private ArangopipeServer server;
  private Path ca;
  private Path clientCert;
  private Path clientKey;
  private final List<String> peers = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    ca = copy("ca.pem");
    clientCert = copy("client.pem");
    clientKey = copy("client.key");
    TlsServerCredentials.Builder creds = TlsServerCredentials.newBuilder()
        .keyManager(copy("server.pem").toFile(), copy("server.key").toFile())
        .trustManager(ca.toFile())
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    ServerInterceptor whoIsThere = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        SSLSession ssl = call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_SSL_SESSION);
        try {
          peers.add(ssl == null ? "plaintext" : ssl.getPeerPrincipal().getName());
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
          peers.add("unverified");
        }
        return next.startCall(call, headers);
      }
    };
    server = new ArangopipeServer(ServerConfig.forTests(Files.createDirectories(dir.resolve("data"))),
        Grpc.newServerBuilderForPort(0, creds.build()).intercept(whoIsThere));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private ArangopipeClient.Builder builder() {
    return ArangopipeClient.builder().target("localhost:" + server.port()).defaultDeadline(Duration.ofSeconds(20))
        .retryPolicy(RetryPolicy.none());
  }

  @Test
  void mutualTlsWithTheCaAndAClientCertificate() {
    try (ArangopipeClient client = builder().trustCertificates(ca).clientCertificate(clientCert, clientKey).build()) {
      assertThat(client.listTypes()).isNotEmpty();
    }
    assertThat(peers).containsExactly("CN=serving-layer");
  }

  @Test
  void theSameFromTheEnvironment() {
    java.util.Map<String, String> env = java.util.Map.of("ARANGOPIPE_TARGET", "localhost:" + server.port(),
        "ARANGOPIPE_CA", ca.toString(), "ARANGOPIPE_CERT", clientCert.toString(), "ARANGOPIPE_KEY", clientKey.toString());
    try (ArangopipeClient client = ArangopipeClient.builder().environment(env::get).build()) {
      assertThat(client.listTypes()).isNotEmpty();
    }
  }

  @Test
  void withoutAClientCertificateOrWithoutTlsTheCallFails() {
    try (ArangopipeClient client = builder().trustCertificates(ca).build()) {
      assertThatThrownBy(client::listTypes).isInstanceOf(UnavailableException.class);
    }
    try (ArangopipeClient client = builder().build()) {
      assertThatThrownBy(client::listTypes).isInstanceOf(UnavailableException.class);
    }
    // The server's certificate is not signed by a CA the system trusts.
    try (ArangopipeClient client = builder().useTls().build()) {
      assertThatThrownBy(client::listTypes).isInstanceOf(UnavailableException.class);
    }
    assertThat(peers).isEmpty();
  }

  private Path copy(String name) throws Exception {
    Path p = dir.resolve(name);
    try (InputStream in = getClass().getResourceAsStream("/tls/" + name)) {
      Files.copy(in, p);
    }
    return p;
  }
}
