package io.arangopipe.server;

import io.arangopipe.server.store.GraphStore;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps gRPC health in step with the store: NOT_SERVING while {@link GraphStore#probe} fails (the
 * database is unreachable), SERVING again once it succeeds. Polls at a fixed interval on its own thread.
 * It sets only "" and the services it is given: {@link ArangopipeServer#LIVENESS_SERVICE} stays SERVING
 * through an outage (liveness must not restart pods because the database is down).
 */
public final class HealthWatch implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HealthWatch.class);

  private final GraphStore store;
  private final HealthStatusManager health;
  private final List<String> services;
  private ScheduledExecutorService timer;
  private Boolean last;

  /** @param services the services whose status follows the store, besides the whole server ("") */
  public HealthWatch(GraphStore store, HealthStatusManager health, List<String> services) {
    this.store = store;
    this.health = health;
    this.services = List.copyOf(services);
  }

  /** Probes every {@code interval}, starting now. */
  public HealthWatch start(Duration interval) {
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "arangopipe-health");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::checkNow, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** Probes once and updates the health status; returns whether the store is available. */
  public synchronized boolean checkNow() {
    boolean ok;
    try {
      ok = store.probe();
    } catch (RuntimeException e) {
      ok = false;
    }
    if (last == null || last != ok) {
      ServingStatus status = ok ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
      for (String s : services) {
        health.setStatus(s, status);
      }
      health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
      if (last != null) {
        if (ok) {
          log.info("the store is reachable again ({}): health SERVING", store.describe());
        } else {
          log.warn("the store is unreachable ({}): health NOT_SERVING until it returns", store.describe());
        }
      }
      last = ok;
    }
    return ok;
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }
}
