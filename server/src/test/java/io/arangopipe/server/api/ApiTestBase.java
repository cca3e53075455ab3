package io.arangopipe.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.arangopipe.server.ArangopipeServer;
import io.arangopipe.server.config.ServerConfig;
import io.arangopipe.v1.*;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real server on an in-process transport over a real SQLite file, and helpers for its tests. */
abstract class ApiTestBase {

  @TempDir
  Path dir;

  protected ArangopipeServer server;
  protected ManagedChannel channel;
  protected AdminServiceGrpc.AdminServiceBlockingStub admin;
  protected TrackingServiceGrpc.TrackingServiceBlockingStub tracking;
  protected LineageServiceGrpc.LineageServiceBlockingStub lineage;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = new ArangopipeServer(ServerConfig.forTests(dir), InProcessServerBuilder.forName(name));
    channel = InProcessChannelBuilder.forName(name).build();
    admin = AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    tracking = TrackingServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    lineage = LineageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  // ---- helpers -----------------------------------------------------------------------------------

  static Struct struct(Object... kv) {
    Struct.Builder b = Struct.newBuilder();
    for (int i = 0; i < kv.length; i += 2) {
      b.putFields((String) kv[i], value(kv[i + 1]));
    }
    return b.build();
  }

  static Value value(Object v) {
    if (v instanceof Value val) {
      return val;
    }
    if (v instanceof String s) {
      return Value.newBuilder().setStringValue(s).build();
    }
    if (v instanceof Number n) {
      return Value.newBuilder().setNumberValue(n.doubleValue()).build();
    }
    if (v instanceof Boolean b) {
      return Value.newBuilder().setBoolValue(b).build();
    }
    if (v instanceof Struct s) {
      return Value.newBuilder().setStructValue(s).build();
    }
    if (v instanceof List<?> l) {
      ListValue.Builder lb = ListValue.newBuilder();
      l.forEach(o -> lb.addValues(value(o)));
      return Value.newBuilder().setListValue(lb).build();
    }
    throw new IllegalArgumentException(String.valueOf(v));
  }

  /** Asserts the call fails with the code, and returns the status for further checks. */
  static com.google.rpc.Status fails(Status.Code code, ThrowingCallable call) {
    StatusRuntimeException[] caught = new StatusRuntimeException[1];
    assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
      caught[0] = e;
    });
    com.google.rpc.Status s = StatusProto.fromThrowable(caught[0]);
    assertThat(s).as("google.rpc.Status details on " + code).isNotNull();
    assertThat(s.getMessage()).doesNotContain("Exception").doesNotContain("\tat ");
    return s;
  }

  static String badField(com.google.rpc.Status s) throws InvalidProtocolBufferException {
    return s.getDetails(0).unpack(BadRequest.class).getFieldViolations(0).getField();
  }

  static ErrorInfo info(com.google.rpc.Status s) throws InvalidProtocolBufferException {
    return s.getDetails(0).unpack(ErrorInfo.class);
  }

  /** A little pipeline: project, dataset, featureset, model. */
  record Setup(Project project, Entity dataset, Entity featureset, Entity model) {}

  Setup setup() {
    Project p = admin.createProject(CreateProjectRequest.newBuilder().setName("housing")
        .setProperties(struct("owner", "ds-team")).build()).getProject();
    Entity ds = tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName("housing-2024")
        .setDocument(struct("source", "s3://bucket/housing.csv", "rows", 20640, "columns",
            List.of("medv", "lstat", "fixed acidity"))).build()).getDataset();
    Entity fs = tracking.registerFeatureset(RegisterFeaturesetRequest.newBuilder().setName("housing-log")
        .setDatasetId(ds.getId()).setDocument(struct("transform", "log", "attributes", List.of("lstat"))).build())
        .getFeatureset();
    Entity m = tracking.registerModel(RegisterModelRequest.newBuilder().setName("lasso-v1").setProject("housing")
        .setDocument(struct("type", "LASSO", "framework", "sklearn")).build()).getModel();
    return new Setup(p, ds, fs, m);
  }

  LogRunResponse logRun(Setup s, String runId, String tag, String depTag, double rmse) {
    return tracking.logRun(LogRunRequest.newBuilder().setRunId(runId).setProject("housing").setTag(tag)
        .setDeploymentTag(depTag).setModelId(s.model().getId()).setDatasetId(s.dataset().getId())
        .setFeaturesetId(s.featureset().getId())
        .setStartTime(Timestamp.newBuilder().setSeconds(1_700_000_000L + rmse2sec(rmse)))
        .setEndTime(Timestamp.newBuilder().setSeconds(1_700_000_100L + rmse2sec(rmse)))
        .setModelParams(struct("alpha", 0.001, "tuning", struct("cv", 5)))
        .setDevPerf(struct("rmse", rmse, "r2", 0.7))
        .setProperties(struct("notes", "baseline")).build());
  }

  static long rmse2sec(double rmse) {
    return (long) (rmse * 1000);
  }


  static ErrorInfo infoOf(com.google.rpc.Status s) {
    try {
      return info(s);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  static Set<String> ids(GetLineageResponse r) {
    Set<String> out = new HashSet<>();
    r.getNodesList().forEach(n -> out.add(n.getId()));
    return out;
  }

  long count(String type) {
    return admin.getType(GetTypeRequest.newBuilder().setName(type).build()).getType().getDocumentCount();
  }

  static String badFieldOf(com.google.rpc.Status s) {
    try {
      return badField(s);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
