package io.arangopipe.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arangopipe.server.ArangopipeServer;
import io.arangopipe.server.TestPki;
import io.arangopipe.server.config.ServerConfig;
import io.arangopipe.v1.AdminServiceGrpc;
import io.arangopipe.v1.ListTypesRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS and mutual TLS over a real socket, with a CA, a server certificate and a client certificate made
 * by {@code openssl} for this test.
 */
class TlsTest {
  @TempDir
  static Path pki;

  @TempDir
  Path data;

  ArangopipeServer server;
  ManagedChannel channel;

  @BeforeAll
  static void makeCertificates() throws Exception {
    TestPki.ca(pki, "ca", "Test CA");
    TestPki.signed(pki, "server", "localhost", "ca", true);
    TestPki.signed(pki, "client", "trainer", "ca", false);
    // Netty wants PKCS#8 keys.
    for (String k : List.of("server", "client")) {
      TestPki.openssl(pki, "pkcs8", "-topk8", "-nocrypt", "-in", k + ".key", "-out", k + ".p8");
    }
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  private void start(ServerConfig.ClientAuth clientAuth) throws Exception {
    ServerConfig.Tls tls = new ServerConfig.Tls(pki.resolve("server.pem"), pki.resolve("server.p8"),
        clientAuth == ServerConfig.ClientAuth.NONE ? null : pki.resolve("ca.pem"), clientAuth);
    server = new ArangopipeServer(ServerConfig.forTests(data).withTls(tls), null);
  }

  private int listTypes(SslContextBuilder ssl) throws Exception {
    NettyChannelBuilder b = NettyChannelBuilder.forAddress("localhost", server.port());
    if (ssl == null) {
      b.usePlaintext();
    } else {
      b.sslContext(ssl.build());
    }
    channel = b.build();
    return AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
        .listTypes(ListTypesRequest.getDefaultInstance()).getTypesCount();
  }

  @Test
  void tlsServesClientsThatTrustItsCa() throws Exception {
    start(ServerConfig.ClientAuth.NONE);
    assertThat(listTypes(GrpcSslContexts.forClient().trustManager(pki.resolve("ca.pem").toFile()))).isPositive();
  }

  @Test
  void plaintextClientsAndUntrustingClientsAreRefused() throws Exception {
    start(ServerConfig.ClientAuth.NONE);
    assertThatThrownBy(() -> listTypes(null)).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    channel.shutdownNow();
    // A client that trusts only the server's own leaf, not its CA, still fails: default JDK trust store.
    assertThatThrownBy(() -> listTypes(GrpcSslContexts.forClient()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void mutualTlsRequiresAClientCertificateFromTheCa() throws Exception {
    start(ServerConfig.ClientAuth.REQUIRE);
    assertThatThrownBy(() -> listTypes(GrpcSslContexts.forClient().trustManager(pki.resolve("ca.pem").toFile())))
        .isInstanceOf(StatusRuntimeException.class);
    channel.shutdownNow();
    assertThat(listTypes(GrpcSslContexts.forClient().trustManager(pki.resolve("ca.pem").toFile())
        .keyManager(pki.resolve("client.pem").toFile(), pki.resolve("client.p8").toFile()))).isPositive();
  }
}
