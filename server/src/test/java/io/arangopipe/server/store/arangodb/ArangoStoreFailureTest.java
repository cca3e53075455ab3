package io.arangopipe.server.store.arangodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arangopipe.server.ArangopipeServer;
import io.arangopipe.server.HealthWatch;
import io.arangopipe.server.store.AlreadyExistsException;
import io.arangopipe.server.store.NotFoundException;
import io.arangopipe.server.store.RequestRecord;
import io.arangopipe.server.store.UnavailableException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Error mapping, retries, time-outs and the circuit breaker of the ArangoDB store, with the real driver
 * (HTTP/1.1 JSON) over real sockets against {@link ArangoStubServer}.
 */
class ArangoStoreFailureTest {

  private ArangoStubServer stub;
  private ArangoStore store;
  private SimpleMeterRegistry metrics;

  @BeforeEach
  void setUp() throws Exception {
    stub = new ArangoStubServer(0);
    metrics = new SimpleMeterRegistry();
    store = ArangoStore.connectOnly(settings(Duration.ofSeconds(1)), ArangoStore.Options.defaults()
        .withMetrics(metrics).withCallTimeout(Duration.ofSeconds(20)).withBreakerOpen(Duration.ofMinutes(5)),
        Layout.BOOKKEEPING);
  }

  private ArangoSettings settings(Duration timeout) {
    return new ArangoSettings(List.of(stub.endpoint()), "stubdb", "root", "pw", null, ArangoSettings.SEED_GRAPH,
        false, 3, timeout, 1, 1, 1, false);
  }

  @AfterEach
  void tearDown() {
    store.close();
    stub.close();
  }

  private Optional<RequestRecord> readRequest() {
    return store.read(tx -> tx.request("r1"));
  }

  @Test
  void aWriteReadsAndCommitsInOneStreamTransaction() {
    Optional<RequestRecord> r = store.write(tx -> tx.request("r1"));
    assertThat(r).isEmpty();
    assertThat(stub.count("begin")).isEqualTo(1);
    assertThat(stub.count("cursor")).isEqualTo(1);
    assertThat(stub.count("commit")).isEqualTo(1);
    assertThat(stub.count("abort")).isZero();
  }

  @Test
  void aWriteWriteConflictRunsTheWholeUnitOfWorkAgain() {
    stub.cursorScript.add(ArangoStubServer.Answer.error(409, 1200, "write-write conflict"));
    Optional<RequestRecord> r = store.write(tx -> tx.request("r1"));
    assertThat(r).isEmpty();
    assertThat(stub.count("begin")).isEqualTo(2);
    assertThat(stub.count("abort")).isEqualTo(1);
    assertThat(stub.count("commit")).isEqualTo(1);
    assertThat(metrics.get("resilience4j.retry.calls").tag("kind", "successful_with_retry").functionCounter().count())
        .isEqualTo(1.0);
  }

  @Test
  void conflictsThatDoNotGoAwayAreAborted() {
    stub.alwaysCursor = ArangoStubServer.Answer.error(409, 1200, "write-write conflict");
    assertThatThrownBy(() -> store.write(tx -> tx.request("r1")))
        .isInstanceOf(io.arangopipe.server.store.AbortedException.class).hasMessageContaining("retrying the call is safe");
    assertThat(stub.count("begin")).isEqualTo(5);
    assertThat(stub.count("commit")).isZero();
    assertThat(store.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void aUniqueConstraintViolationIsAlreadyExistsAndIsNotRetried() {
    stub.cursorScript.add(ArangoStubServer.Answer.error(409, 1210,
        "unique constraint violated - in index primary of type primary over '_key'; conflicting key: abc"));
    assertThatThrownBy(() -> store.write(tx -> {
      tx.putRequest(new RequestRecord("r1", "op", "fp", "{}", Instant.EPOCH));
      return null;
    })).isInstanceOf(AlreadyExistsException.class)
        .satisfies(e -> assertThat(((AlreadyExistsException) e).existingId()).isEqualTo("arangopipe_requests/abc"));
    assertThat(stub.count("begin")).isEqualTo(1);
    assertThat(stub.count("abort")).isEqualTo(1);
    assertThat(stub.count("commit")).isZero();
  }

  @Test
  void aMissingCollectionIsNotFound() {
    stub.cursorScript.add(ArangoStubServer.Answer.error(404, 1203, "collection or view not found: x"));
    assertThatThrownBy(this::readRequest).isInstanceOf(NotFoundException.class).hasMessageContaining("not found");
    assertThat(stub.count("begin")).isEqualTo(1);
  }

  @Test
  void aBriefServiceUnavailableIsRetriedAndSucceeds() {
    stub.cursorScript.add(ArangoStubServer.Answer.error(503, 503, "service unavailable"));
    assertThat(readRequest()).isEmpty();
    assertThat(stub.count("cursor")).isGreaterThanOrEqualTo(2);
  }

  @Test
  void aLastingServiceUnavailableIsUnavailable() {
    stub.alwaysCursor = ArangoStubServer.Answer.error(503, 503, "service unavailable");
    assertThatThrownBy(this::readRequest).isInstanceOf(UnavailableException.class)
        .hasMessageContaining("cannot reach ArangoDB");
  }

  @Test
  void aRequestThatTimesOutIsUnavailable() {
    stub.alwaysCursor = ArangoStubServer.Answer.slow(3_000);
    assertThatThrownBy(this::readRequest).isInstanceOf(UnavailableException.class);
    // Every attempt began its own transaction and gave it back.
    assertThat(stub.count("begin")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void theCallsDeadlineBoundsTheWholeCall() {
    store.close();
    store = ArangoStore.connectOnly(settings(Duration.ofSeconds(10)), ArangoStore.Options.defaults()
        .withDeadline(() -> Duration.ofMillis(300)), Layout.BOOKKEEPING);
    stub.alwaysCursor = ArangoStubServer.Answer.slow(3_000);
    assertThatThrownBy(this::readRequest).isInstanceOf(UnavailableException.class)
        .hasMessageContaining("time limit");
  }

  @Test
  void aDeadDatabaseOpensTheBreakerAndHealthFollowsItBack() throws Exception {
    HealthStatusManager health = new HealthStatusManager();
    String name = InProcessServerBuilder.generateName();
    Server grpc = InProcessServerBuilder.forName(name).directExecutor().addService(health.getHealthService())
        .build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    // As the server does: liveness is SERVING from start to shutdown, and HealthWatch leaves it alone.
    health.setStatus(ArangopipeServer.LIVENESS_SERVICE, ServingStatus.SERVING);
    HealthCheckRequest liveness = HealthCheckRequest.newBuilder().setService(ArangopipeServer.LIVENESS_SERVICE)
        .build();
    try (HealthWatch watch = new HealthWatch(store, health, List.of("arangopipe.v1.AdminService"))) {
      HealthGrpc.HealthBlockingStub probe = HealthGrpc.newBlockingStub(channel);
      assertThat(watch.checkNow()).isTrue();
      assertThat(probe.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus())
          .isEqualTo(ServingStatus.SERVING);

      stub.stop();
      // One call's five attempts fill the breaker's minimum of calls: it opens.
      assertThatThrownBy(this::readRequest).isInstanceOf(UnavailableException.class)
          .hasMessageContaining("cannot reach ArangoDB");
      assertThat(store.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
      long before = stub.requests.size();
      assertThatThrownBy(this::readRequest).isInstanceOf(UnavailableException.class)
          .hasMessageContaining("circuit breaker is open");
      assertThat(stub.requests.size()).isEqualTo(before);
      assertThat(watch.checkNow()).isFalse();
      assertThat(probe.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus())
          .isEqualTo(ServingStatus.NOT_SERVING);
      assertThat(probe.check(HealthCheckRequest.newBuilder().setService("arangopipe.v1.AdminService").build())
          .getStatus()).isEqualTo(ServingStatus.NOT_SERVING);
      // readiness ("") takes the pod out of the Service; liveness does not get it restarted
      assertThat(probe.check(liveness).getStatus()).isEqualTo(ServingStatus.SERVING);

      stub.restart();
      assertThat(watch.checkNow()).isTrue();
      assertThat(probe.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus())
          .isEqualTo(ServingStatus.SERVING);
      assertThat(readRequest()).isEmpty();
      assertThat(metrics.find("resilience4j.circuitbreaker.state").gauges()).isNotEmpty();
    } finally {
      channel.shutdownNow();
      grpc.shutdownNow();
    }
  }

  @Test
  void aStartWithoutArangoDbNamesTheEndpointAndSaysWhatToDo() {
    ArangoSettings settings = settings(Duration.ofSeconds(1));
    stub.stop();
    assertThatThrownBy(() -> ArangoStore.open(settings, ArangoStore.Options.defaults()))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("ArangoDB at " + stub.endpoint() + " (database stubdb, user root)")
        .hasMessageContaining("cannot reach ArangoDB")
        .hasMessageContaining("--arangodb-endpoints (ARANGOPIPE_ARANGODB_ENDPOINTS)")
        .hasMessageNotContaining("pw");
  }

  @Test
  void settingsRejectWhatCannotWork() {
    assertThatThrownBy(() -> new ArangoSettings(List.of("ftp://x:1"), "db", "u", "p", null, "g", true, 1,
        Duration.ofSeconds(1), 1, 1, 1, false)).hasMessageContaining("http://host:port");
    assertThatThrownBy(() -> new ArangoSettings(List.of("http://x:1"), "db", "u", "p", null, "g", false, 2,
        Duration.ofSeconds(1), 1, 1, 1, false)).hasMessageContaining("at least 3 with HTTP/1.1");
    assertThatThrownBy(() -> new ArangoSettings(List.of("http://x:1"), "db", "u", "p", null, "g", true, 1,
        Duration.ofSeconds(1), 1, 2, 1, false)).hasMessageContaining("--arangodb-write-concern");
    assertThatThrownBy(() -> new ArangoSettings(List.of("http://x:1"), "d b", "u", "p", null, "g", true, 1,
        Duration.ofSeconds(1), 1, 1, 1, false)).hasMessageContaining("--arangodb-database");
    assertThat(new ArangoSettings(List.of("https://h:8529/"), "db", "u", "secret", null, "g", true, 1,
        Duration.ofSeconds(1), 1, 1, 1, false).toString()).doesNotContain("secret");
  }
}
