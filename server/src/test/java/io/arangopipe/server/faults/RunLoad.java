package io.arangopipe.server.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.Timestamps;
import io.arangopipe.server.JarServer;
import io.arangopipe.v1.CreateProjectRequest;
import io.arangopipe.v1.LogRunRequest;
import io.arangopipe.v1.LogRunResponse;
import io.arangopipe.v1.RegisterDatasetRequest;
import io.arangopipe.v1.RegisterFeaturesetRequest;
import io.arangopipe.v1.RegisterModelRequest;
import io.grpc.Status;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The write the fault tests put load on: LogRun (a run, its model params, its dev performance and five
 * edges, in one transaction), each call with its own run id and {@code request_id}; and the reconciliation
 * of what clients were told against what the database file holds.
 */
final class RunLoad {
  static final String PROJECT = "faults";
  static final String REQUEST_PREFIX = "req-";

  private RunLoad() {}

  /** The dataset, featureset and model every logged run links to. */
  record Fixture(String datasetId, String featuresetId, String modelId) {}

  static Fixture register(JarServer s) {
    s.admin().createProject(CreateProjectRequest.newBuilder().setName(PROJECT).build());
    String dataset = s.tracking().registerDataset(RegisterDatasetRequest.newBuilder()
        .setName("faults-dataset").setProject(PROJECT).build()).getDataset().getId();
    String featureset = s.tracking().registerFeatureset(RegisterFeaturesetRequest.newBuilder()
        .setName("faults-features").setProject(PROJECT).setDatasetId(dataset).build()).getFeatureset().getId();
    String model = s.tracking().registerModel(RegisterModelRequest.newBuilder()
        .setName("faults-model").setProject(PROJECT).build()).getModel().getId();
    return new Fixture(dataset, featureset, model);
  }

  /** One LogRun call a client made. */
  record Attempt(String runKey, int client, int seq) {
    String requestId() {
      return REQUEST_PREFIX + runKey;
    }
  }

  /** What an acknowledgement named. */
  record Ack(String modelParamsId, String devPerfId) {}

  /** The request of an attempt; {@code padding} characters of filler make the write bigger. */
  static LogRunRequest request(Attempt a, Fixture f, int padding) {
    Struct.Builder params = Struct.newBuilder()
        .putFields("client", num(a.client))
        .putFields("seq", num(a.seq))
        .putFields("alpha", num(0.001 * (a.seq % 100)));
    if (padding > 0) {
      params.putFields("notes", Value.newBuilder().setStringValue("x".repeat(padding)).build());
    }
    return LogRunRequest.newBuilder()
        .setRunId(a.runKey)
        .setProject(PROJECT)
        .setTag("client-" + a.client)
        .setStartTime(Timestamps.fromMillis(1_700_000_000_000L + a.seq * 1000L))
        .setModelId(f.modelId)
        .setDatasetId(f.datasetId)
        .setFeaturesetId(f.featuresetId)
        .setModelParams(params)
        .setDevPerf(Struct.newBuilder().putFields("rmse", num(1.0 + a.seq / 1000.0)))
        .setRequestId(a.requestId())
        .build();
  }

  private static Value num(double d) {
    return Value.newBuilder().setNumberValue(d).build();
  }

  /** The acknowledgement in a response, after checking that the response is the attempt's whole run. */
  static Ack ack(Attempt a, LogRunResponse r) {
    assertThat(r.getRun().getId()).as("run of %s", a.runKey).isEqualTo("run/" + a.runKey);
    assertThat(r.getModelParams().getId()).as("model params of %s", a.runKey).startsWith("modelparams/");
    assertThat(r.getDevPerf().getId()).as("dev perf of %s", a.runKey).startsWith("devperf/");
    assertThat(r.getRun().getModelParamsId()).isEqualTo(r.getModelParams().getId());
    assertThat(r.getRun().getDevPerfId()).isEqualTo(r.getDevPerf().getId());
    return new Ack(r.getModelParams().getId(), r.getDevPerf().getId());
  }

  /** Counts of status codes, thread-safe. */
  static final class Tally {
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

    void add(Status.Code code) {
      add(code.name());
    }

    void add(String what) {
      counts.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
    }

    long get(String what) {
      AtomicLong n = counts.get(what);
      return n == null ? 0 : n.get();
    }

    Set<String> keys() {
      return Set.copyOf(counts.keySet());
    }

    long total() {
      return counts.values().stream().mapToLong(AtomicLong::get).sum();
    }

    @Override
    public String toString() {
      Map<String, Long> sorted = new TreeMap<>();
      counts.forEach((k, v) -> sorted.put(k, v.get()));
      return sorted.toString();
    }
  }

  /** What the database holds of the attempted writes. */
  record Reconciliation(int acknowledged, int unacknowledgedComplete, int unacknowledgedAbsent,
      Collection<String> lost, Collection<String> partial, Collection<String> phantom, Map<String, Long> orphans) {

    long orphanCount() {
      return orphans.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Lost = 0, partial = 0, nothing nobody asked for, no orphan pieces. */
    void assertClean(String when) {
      assertThat(lost).as("acknowledged runs lost or changed %s", when).isEmpty();
      assertThat(partial).as("partial runs %s", when).isEmpty();
      assertThat(phantom).as("runs nobody attempted %s", when).isEmpty();
      assertThat(orphans).as("orphan pieces %s", when).allSatisfy((k, v) -> assertThat(v).as(k).isZero());
    }
  }

  /**
   * Compares the acknowledged and unacknowledged attempts (run keys starting with {@code prefix}) with the
   * database: every acknowledged run must be there, complete, with the ids its acknowledgement named; every
   * other attempted run is complete or absent; no run exists that nobody attempted.
   */
  static Reconciliation reconcile(StoreFile db, String prefix, Map<String, Ack> acked, Collection<String> unacked)
      throws SQLException {
    Map<String, StoreFile.RunRow> rows = db.runs(prefix, REQUEST_PREFIX);
    var lost = new ArrayList<String>();
    for (Map.Entry<String, Ack> e : acked.entrySet()) {
      StoreFile.RunRow row = rows.get(e.getKey());
      if (row == null) {
        lost.add(e.getKey() + " (absent)");
      } else if (!row.complete()) {
        lost.add(e.getKey() + " (incomplete: " + row + ")");
      } else if (!row.modelParams().equals(java.util.List.of(e.getValue().modelParamsId()))
          || !row.devPerf().equals(java.util.List.of(e.getValue().devPerfId()))) {
        lost.add(e.getKey() + " (other ids than acknowledged: " + row + " vs " + e.getValue() + ")");
      }
    }
    var partial = rows.values().stream().filter(r -> !r.complete()).map(StoreFile.RunRow::toString).toList();
    int complete = 0;
    int absent = 0;
    for (String key : unacked) {
      StoreFile.RunRow row = rows.get(key);
      if (row == null) {
        absent++;
      } else if (row.complete()) {
        complete++;
      }
    }
    Set<String> known = new java.util.HashSet<>(acked.keySet());
    known.addAll(unacked);
    return new Reconciliation(acked.size(), complete, absent, lost, partial, StoreFile.notIn(rows, known),
        db.orphans());
  }
}
