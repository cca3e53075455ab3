package io.arangopipe.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ListValue;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.arangopipe.v1.*;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of malformed and adversarial requests against the real server jar over a real socket:
 * random bytes, huge and deeply nested documents, hostile names, filters, attribute paths and ids,
 * invalid enum values, missing and forged tokens. Afterwards the server must still serve, no call may
 * have been answered INTERNAL or UNKNOWN, and every well-formed write made before and after is intact.
 */
class FuzzIT {
  static final String TOKEN = "fuzz-admin-token-0123456789abcdef";
  static final int REQUESTS = Integer.getInteger("fuzz.requests", 4000);
  static final long SEED = Long.getLong("fuzz.seed", 20261128L);

  @TempDir
  Path tmp;

  Process server;
  ManagedChannel channel;

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.destroy();
      if (!server.waitFor(20, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    }
  }

  private int startServer() throws Exception {
    Path jar = Path.of(System.getProperty("arangopipe.serverJar", "target/arangopipe-server.jar"));
    Path portFile = tmp.resolve("port");
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", jar.toString(), "--port", "0", "--port-file", portFile.toString(), "--data-dir",
        tmp.resolve("data").toString());
    pb.environment().keySet().removeIf(k -> k.startsWith("ARANGOPIPE_"));
    pb.environment().put("ARANGOPIPE_ADMIN_TOKEN", TOKEN);
    pb.redirectErrorStream(true).redirectOutput(tmp.resolve("server.log").toFile());
    server = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(portFile)) {
      if (!server.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError("server did not start:\n" + Files.readString(tmp.resolve("server.log")));
      }
      Thread.sleep(50);
    }
    return Integer.parseInt(Files.readString(portFile).strip());
  }

  private static Channel withToken(Channel c, String token) {
    Metadata md = new Metadata();
    if (token != null) {
      md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), token);
    }
    return ClientInterceptors.intercept(c, MetadataUtils.newAttachHeadersInterceptor(md));
  }

  static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] b) {
      return new ByteArrayInputStream(b);
    }

    @Override
    public byte[] parse(InputStream in) {
      try {
        return in.readAllBytes();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  // ---- adversarial values ---------------------------------------------------------------------------

  private final Random rnd = new Random(SEED);

  private static final List<String> NASTY = List.of("", " ", "x'; DROP TABLE vertices; --", "\" OR 1=1 --",
      "../../etc/passwd", "%00", "\u0000", "\u202Eevil", "😀🔥", "a/b", "datasets/../run", "${jndi:ldap://x}",
      "' OR ''='", "NULL", "name = 'x' OR 1=1", "\"unterminated", "a.b.\"c", "\\", "\n\r\t", "x".repeat(300),
      "x".repeat(70_000), "é".repeat(200), "SELECT * FROM requests", "$.name", "@@coll", "FOR d IN run RETURN d");

  private String nasty() {
    int pick = rnd.nextInt(NASTY.size() + 3);
    if (pick < NASTY.size()) {
      return NASTY.get(pick);
    }
    StringBuilder b = new StringBuilder();
    int n = rnd.nextInt(40);
    for (int i = 0; i < n; i++) {
      b.append((char) rnd.nextInt(0x3000));
    }
    return b.toString();
  }

  /** A forged authorization header: printable ASCII, and short enough to pass the metadata size limit. */
  private static String header(String s) {
    String ascii = s.replaceAll("[^ -~]", "");
    return ascii.length() > 4000 ? ascii.substring(0, 4000) : ascii;
  }

  private Value value(int depth) {
    int k = rnd.nextInt(depth > 0 ? 7 : 5);
    return switch (k) {
      case 0 -> Value.newBuilder().setStringValue(nasty()).build();
      case 1 -> Value.newBuilder().setNumberValue(rnd.nextBoolean() ? Double.NaN : rnd.nextGaussian() * 1e300)
          .build();
      case 2 -> Value.newBuilder().setBoolValue(rnd.nextBoolean()).build();
      case 3 -> Value.newBuilder().setNullValueValue(rnd.nextInt(3)).build();
      case 4 -> Value.newBuilder().setNumberValue(rnd.nextInt()).build();
      case 5 -> Value.newBuilder().setStructValue(struct(depth - 1)).build();
      default -> {
        ListValue.Builder l = ListValue.newBuilder();
        for (int i = 0; i < rnd.nextInt(4); i++) {
          l.addValues(value(depth - 1));
        }
        yield Value.newBuilder().setListValue(l).build();
      }
    };
  }

  private Struct struct(int depth) {
    Struct.Builder b = Struct.newBuilder();
    for (int i = 0; i < rnd.nextInt(4); i++) {
      b.putFields(nasty(), value(depth));
    }
    return b.build();
  }

  private Struct deep(int levels) {
    Struct s = Struct.newBuilder().putFields("leaf", Value.newBuilder().setNumberValue(1).build()).build();
    for (int i = 0; i < levels; i++) {
      s = Struct.newBuilder().putFields("d", Value.newBuilder().setStructValue(s).build()).build();
    }
    return s;
  }

  private Struct doc() {
    return switch (rnd.nextInt(5)) {
      case 0 -> deep(20 + rnd.nextInt(80));
      case 1 -> Struct.newBuilder().putFields("big", Value.newBuilder().setStringValue("x".repeat(1_100_000))
          .build()).build();
      default -> struct(3);
    };
  }

  private String id() {
    return switch (rnd.nextInt(4)) {
      case 0 -> nasty();
      case 1 -> "datasets/" + nasty();
      case 2 -> nasty() + "/" + nasty();
      default -> "run/" + rnd.nextInt(10);
    };
  }

  // ---- the fuzzing ------------------------------------------------------------------------------------

  @Test
  void hostileRequestsNeverCrashOrCorruptTheServer() throws Exception {
    int port = startServer();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().maxInboundMessageSize(8 << 20)
        .build();
    Channel authed = withToken(channel, "Bearer " + TOKEN);
    AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(authed);
    TrackingServiceGrpc.TrackingServiceBlockingStub tracking = TrackingServiceGrpc.newBlockingStub(authed);
    LineageServiceGrpc.LineageServiceBlockingStub lineage = LineageServiceGrpc.newBlockingStub(authed);

    // Well-formed writes before.
    admin.createProject(CreateProjectRequest.newBuilder().setName("fz").build());
    Entity ds = tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName("canary").setProject("fz")
        .setDocument(Struct.newBuilder().putFields("rows", Value.newBuilder().setNumberValue(42).build())).build())
        .getDataset();
    Entity model = tracking.registerModel(RegisterModelRequest.newBuilder().setName("canary-model")
        .setProject("fz").build()).getModel();
    LogRunResponse run = tracking.logRun(LogRunRequest.newBuilder().setRunId("canary-run").setProject("fz")
        .setModelId(model.getId()).setDatasetId(ds.getId()).build());

    List<String> unary = new ArrayList<>();
    for (io.grpc.ServiceDescriptor sd : List.of(AdminServiceGrpc.getServiceDescriptor(),
        TrackingServiceGrpc.getServiceDescriptor(), LineageServiceGrpc.getServiceDescriptor())) {
      for (MethodDescriptor<?, ?> m : sd.getMethods()) {
        if (m.getType() == MethodDescriptor.MethodType.UNARY) {
          unary.add(m.getFullMethodName());
        }
      }
    }

    List<Supplier<Message>> calls = List.of(
        () -> tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName(nasty()).setProject(nasty())
            .setDocument(doc()).setRequestId(nasty()).build()),
        () -> tracking.registerFeatureset(RegisterFeaturesetRequest.newBuilder().setName(nasty())
            .setDatasetId(id()).setDocument(doc()).build()),
        () -> tracking.logRun(LogRunRequest.newBuilder().setRunId(nasty()).setModelId(id()).setDatasetId(id())
            .setProject(nasty()).setTag(nasty()).setModelParams(doc()).setDevPerf(doc()).setProperties(doc())
            .setStatusValue(rnd.nextInt(10) - 2).build()),
        () -> tracking.findEntities(FindEntitiesRequest.newBuilder().setCollection(nasty()).setAttribute(nasty())
            .setValue(value(2)).setFilter(nasty()).setOrderBy(nasty()).setPageSize(rnd.nextInt() % 5000)
            .setPageToken(nasty()).build()),
        () -> tracking.listEntities(ListEntitiesRequest.newBuilder().setCollection("datasets").setFilter(nasty())
            .setOrderBy(nasty()).build()),
        () -> tracking.getEntity(GetEntityRequest.newBuilder().setId(id()).build()),
        () -> tracking.insertVertex(InsertVertexRequest.newBuilder().setCollection(nasty()).setKey(nasty())
            .setName(nasty()).setDocument(doc()).build()),
        () -> lineage.getLineage(GetLineageRequest.newBuilder().setStartId(id()).setMaxDepth(rnd.nextInt())
            .setMaxNodes(rnd.nextInt()).setDirectionValue(rnd.nextInt(6)).addVertexTypes(nasty())
            .setStartFilter(nasty()).build()),
        () -> lineage.searchRuns(SearchRunsRequest.newBuilder().setProject(nasty()).setFilter(nasty())
            .setOrderBy(nasty()).setPageToken(nasty()).build()),
        () -> lineage.searchRuns(SearchRunsRequest.newBuilder().setFilter("devperf." + nasty() + " > 1 OR "
            + nasty()).build()),
        () -> lineage.aggregateRuns(AggregateRunsRequest.newBuilder().setFilter(nasty())
            .addGroupBy(GroupBy.newBuilder().setField(nasty()).setTimeBucketValue(rnd.nextInt(6)))
            .addAggregates(Aggregate.newBuilder().setFunctionValue(rnd.nextInt(10)).setField(nasty()))
            .setOrderByAggregate(rnd.nextInt(5) - 2).setLimit(rnd.nextInt()).build()),
        () -> admin.addEdgeType(AddEdgeTypeRequest.newBuilder().setName(nasty()).addFromTypes(nasty())
            .addToTypes(nasty()).build()),
        () -> admin.createUser(CreateUserRequest.newBuilder().setName(nasty()).build()),
        () -> admin.grantRole(GrantRoleRequest.newBuilder().setUser(nasty()).setProject(nasty())
            .setRoleValue(rnd.nextInt(7)).build()),
        () -> AdminServiceGrpc.newBlockingStub(withToken(channel, header(rnd.nextBoolean() ? nasty()
            : "Bearer " + nasty()))).getCurrentUser(GetCurrentUserRequest.getDefaultInstance()),
        () -> {
          byte[] junk = new byte[rnd.nextInt(64)];
          rnd.nextBytes(junk);
          MethodDescriptor<byte[], byte[]> m = MethodDescriptor.<byte[], byte[]>newBuilder()
              .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName(unary.get(rnd.nextInt(unary.size())))
              .setRequestMarshaller(new Bytes()).setResponseMarshaller(new Bytes()).build();
          ClientCalls.blockingUnaryCall(authed, m, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), junk);
          return GetCurrentUserRequest.getDefaultInstance();
        });

    Map<String, Integer> codes = new TreeMap<>();
    List<String> bad = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      int which = rnd.nextInt(calls.size());
      Status.Code code;
      String description = "";
      try {
        calls.get(which).get();
        code = Status.Code.OK;
      } catch (StatusRuntimeException e) {
        code = e.getStatus().getCode();
        description = String.valueOf(e.getStatus().getDescription());
      }
      codes.merge(code.name(), 1, Integer::sum);
      if (code == Status.Code.INTERNAL || code == Status.Code.UNKNOWN || code == Status.Code.UNAVAILABLE
          || code == Status.Code.DEADLINE_EXCEEDED || code == Status.Code.CANCELLED) {
        bad.add("request " + i + " (kind " + which + "): " + code + " " + description);
      }
    }
    System.out.println("fuzz: seed " + SEED + ", " + REQUESTS + " requests, status codes " + codes);

    // Metadata beyond the server's 16 KiB limit is refused by the transport before any handler runs.
    try {
      AdminServiceGrpc.newBlockingStub(withToken(channel, "Bearer " + "x".repeat(70_000)))
          .getCurrentUser(GetCurrentUserRequest.getDefaultInstance());
      throw new AssertionError("a 70 KB header was accepted");
    } catch (StatusRuntimeException e) {
      System.out.println("fuzz: a 70 KB authorization header was refused with " + e.getStatus().getCode());
    }

    // The server still serves, and what was written before is intact.
    assertThat(HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(tracking.getEntity(GetEntityRequest.newBuilder().setId(ds.getId()).build()).getEntity())
        .isEqualTo(ds);
    assertThat(tracking.getRun(GetRunRequest.newBuilder().setRunId("canary-run").build()).getRun())
        .isEqualTo(run.getRun());
    Entity after = tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName("after-fuzz")
        .setProject("fz").build()).getDataset();
    assertThat(tracking.getEntity(GetEntityRequest.newBuilder().setId(after.getId()).build()).getEntity())
        .isEqualTo(after);
    String log = Files.readString(tmp.resolve("server.log"));
    assertThat(log).doesNotContain("internal error, incident");
    assertThat(bad).as("calls answered with a server failure").isEmpty();
    assertThat(codes.getOrDefault("OK", 0) + codes.getOrDefault("INVALID_ARGUMENT", 0)).isPositive();
  }
}
