package io.arangopipe.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;
import io.arangopipe.server.config.ServerConfig;
import io.arangopipe.server.store.Cancellation;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.sqlite.SqliteStore;
import io.arangopipe.server.transfer.DumpFormat;
import io.arangopipe.server.transfer.DumpFormat.Kind;
import io.arangopipe.server.transfer.Exporter;
import io.arangopipe.server.transfer.Importer;
import io.arangopipe.server.transfer.Progress;
import io.arangopipe.v1.*;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export and import on real SQLite files: a store filled through the real gRPC API (with authentication on)
 * is exported, imported into a fresh folder and exported again, byte for byte the same; the real server on
 * the imported folder accepts the same tokens and answers lineage, search and history the same. Then the
 * ways a file can be wrong, re-import, and conflicts.
 */
class ExportImportTest {
  static final String ADMIN_TOKEN = "export-test-admin-token-0123456789";
  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-28T10:00:00Z"), ZoneOffset.UTC);

  @TempDir
  static Path shared;

  /** The source folder, filled once. */
  static Path source;
  /** Its export. */
  static String exported;
  /** Alice's token, and answers of the source server to compare with the imported one's. */
  static String aliceToken;
  static Answers before;

  record Answers(GetLineageResponse lineage, SearchRunsResponse runs, GetHistoryResponse history,
      ListTypesResponse types, GetCurrentUserResponse alice, ListTokensResponse aliceTokens) {}

  @BeforeAll
  static void fillAndExport() throws Exception {
    source = shared.resolve("source");
    try (Running s = new Running(source, ADMIN_TOKEN)) {
      AdminServiceGrpc.AdminServiceBlockingStub admin = s.admin(ADMIN_TOKEN);
      TrackingServiceGrpc.TrackingServiceBlockingStub tracking = s.tracking(ADMIN_TOKEN);
      admin.createProject(CreateProjectRequest.newBuilder().setName("housing")
          .setProperties(struct("team", "pricing")).build());
      String ds = tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName("housing-2024")
          .setProject("housing").setDocument(struct("rows", 20640, "ratio", 0.25, "big", 9007199254740993.0,
              "cols", List.of("a", 1, 2.5, true), "nested", struct("deep", struct("x", "y")))).build())
          .getDataset().getId();
      String fs = tracking.registerFeatureset(RegisterFeaturesetRequest.newBuilder().setName("log-features")
          .setProject("housing").setDatasetId(ds).setDocument(struct("transform", "log1p")).build())
          .getFeatureset().getId();
      String model = tracking.registerModel(RegisterModelRequest.newBuilder().setName("lasso").setProject("housing")
          .setDocument(struct("estimator", "Lasso")).build()).getModel().getId();
      for (int i = 1; i <= 3; i++) {
        tracking.logRun(LogRunRequest.newBuilder().setRunId("run-" + i).setProject("housing").setTag("sweep")
            .setDeploymentTag(i == 2 ? "prod" : "").setModelId(model).setDatasetId(ds).setFeaturesetId(fs)
            .setStartTime(Timestamp.newBuilder().setSeconds(1_700_000_000L + i).setNanos(123_456_000))
            .setModelParams(struct("alpha", 0.001 * i, "max_iter", 1000 * i))
            .setDevPerf(struct("rmse", 0.3 - 0.01 * i)).setRequestId("log-run-" + i).build());
      }
      admin.registerDeployment(RegisterDeploymentRequest.newBuilder().setDeploymentTag("prod")
          .setProperties(struct("endpoint", "https://ml.example.com")).build());
      admin.updateDeploymentStatus(UpdateDeploymentStatusRequest.newBuilder().setDeploymentTag("prod")
          .setStatus(DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE).build());
      tracking.logServingPerf(LogServingPerfRequest.newBuilder().setDeploymentTag("prod")
          .setMetrics(struct("rmse", 0.31, "requests", 1200)).setRequestId("perf-1").build());
      // User-added types: an edge type whose name sorts before the vertex type it starts from.
      admin.addVertexType(AddVertexTypeRequest.newBuilder().setName("zz_papers").build());
      admin.addEdgeType(AddEdgeTypeRequest.newBuilder().setName("aa_cites").addFromTypes("zz_papers")
          .addToTypes("datasets").build());
      String paper = tracking.insertVertex(InsertVertexRequest.newBuilder().setCollection("zz_papers")
          .setName("housing-paper").setDocument(struct("doi", "10.1/abc", "year", 1978)).build()).getEntity().getId();
      tracking.insertEdge(InsertEdgeRequest.newBuilder().setCollection("aa_cites").setFromId(paper).setToId(ds)
          .setDocument(struct("section", 2)).build());
      admin.createUser(CreateUserRequest.newBuilder().setName("alice").build());
      aliceToken = admin.createToken(CreateTokenRequest.newBuilder().setUser("alice").setDescription("laptop")
          .build()).getSecret();
      String revoked = admin.createToken(CreateTokenRequest.newBuilder().setUser("alice").build()).getToken()
          .getTokenId();
      admin.revokeToken(RevokeTokenRequest.newBuilder().setTokenId(revoked).build());
      admin.grantRole(GrantRoleRequest.newBuilder().setUser("alice").setProject("housing")
          .setRole(Role.ROLE_VIEWER).build());
      before = s.answers(aliceToken, ds);
    }
    exported = export(source);
  }

  static String export(Path dir) {
    try (GraphStore store = open(dir)) {
      StringWriter out = new StringWriter();
      new Exporter(store, 2, Progress.NONE).export(out, "test", CLOCK);
      return out.toString();
    }
  }

  static GraphStore open(Path dir) {
    return Stores.open(ServerConfig.forTests(dir), new io.micrometer.core.instrument.composite.CompositeMeterRegistry(),
        Cancellation.NEVER);
  }

  static Importer.Summary importInto(Path dir, String file, Importer.OnConflict mode) {
    try (GraphStore store = open(dir)) {
      return new Importer(store, 3, mode, Progress.NONE).run(new StringReader(file));
    }
  }

  static List<String> lines(String file) {
    return file.lines().toList();
  }

  static Map<String, Long> kinds(String file) {
    return lines(file).stream().map(l -> l.substring(9, l.indexOf('"', 9)))
        .collect(Collectors.groupingBy(k -> k, Collectors.counting()));
  }

  // ---- the round trip ----------------------------------------------------------------------------

  @Test
  void exportImportExportIsTheSameFileAndTheServerAnswersTheSame() throws Exception {
    assertThat(kinds(exported)).containsEntry("header", 1L).containsEntry("end", 1L)
        .containsKeys("collection", "vertex", "edge", "history", "request");
    assertThat(exported).contains("\"id\":\"_users/alice\"").contains("\"name\":\"_tokens\"")
        .contains("\"name\":\"aa_cites\"").contains("\"request_id\":\"log-run-2\"")
        .contains("\"action\":\"STATUS_CHANGED\"")
        // Integers stay integers, fractions stay fractions, beyond 2^53 stays a double.
        .contains("\"rows\":20640").contains("\"ratio\":0.25").contains("\"year\":1978")
        .contains("\"cols\":[\"a\",1,2.5,true]")
        .contains("\"start_time\":\"2023-11-14T22:13:21.123456Z\"");
    assertThat(lines(exported).get(0)).startsWith("{\"kind\":\"header\",\"format\":\"arangopipe-export\","
        + "\"version\":1,\"server_version\":\"test\",\"source\":\"sqlite:");

    Path copy = shared.resolve("copy");
    Importer.Summary s = importInto(copy, exported, Importer.OnConflict.FAIL);
    assertThat(s.conflicts().values()).containsOnly(0L);
    assertThat(s.unchanged().values()).containsOnly(0L);
    assertThat(s.written()).isEqualTo(s.read());
    String again = export(copy);
    List<String> a = lines(exported);
    List<String> b = lines(again);
    assertThat(b.get(0)).contains(copy.toString());
    assertThat(b.subList(1, b.size())).isEqualTo(a.subList(1, a.size()));

    // The real server on the imported folder: the same token works, the same answers come back.
    try (Running s2 = new Running(copy, null)) {
      assertThat(s2.server.authEnabled()).isTrue();
      String ds = before.lineage().getNodesList().stream().filter(n -> n.getId().startsWith("datasets/"))
          .findFirst().orElseThrow().getId();
      assertThat(before.lineage().getNodesCount()).isGreaterThanOrEqualTo(8);
      assertThat(before.runs().getRunsCount()).isGreaterThanOrEqualTo(2);
      assertThat(before.history().getEventsCount()).isGreaterThanOrEqualTo(1);
      assertThat(before.types().getTypesList()).extracting(EntityType::getName).contains("aa_cites", "zz_papers");
      assertThat(before.aliceTokens().getTokensCount()).isEqualTo(2);
      Answers after = s2.answers(aliceToken, ds);
      assertThat(after).isEqualTo(before);
      assertThat(after.alice().getUser().getName()).isEqualTo("alice");
      assertThatThrownBy(() -> s2.admin("apt_not-a-token").getCurrentUser(GetCurrentUserRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      // Request ids survive: retrying a logged run returns its first result and writes nothing.
      long runs = s2.lineage(ADMIN_TOKEN).searchRuns(SearchRunsRequest.newBuilder().setProject("housing").build())
          .getRunsCount();
      s2.tracking(ADMIN_TOKEN).logServingPerf(LogServingPerfRequest.newBuilder().setDeploymentTag("prod")
          .setMetrics(struct("rmse", 0.31, "requests", 1200)).setRequestId("perf-1").build());
      assertThat(s2.lineage(ADMIN_TOKEN).searchRuns(SearchRunsRequest.newBuilder().setProject("housing").build())
          .getRunsCount()).isEqualTo(runs);
    }
    assertThat(export(copy).lines().skip(1).toList()).isEqualTo(a.subList(1, a.size()));
  }

  @Test
  void importingTheSameFileAgainChangesNothing() {
    Path dir = shared.resolve("twice");
    importInto(dir, exported, Importer.OnConflict.FAIL);
    Importer.Summary s = importInto(dir, exported, Importer.OnConflict.FAIL);
    assertThat(s.written().values()).containsOnly(0L);
    assertThat(s.unchanged()).isEqualTo(s.read());
    assertThat(lines(export(dir)).subList(1, lines(exported).size()))
        .isEqualTo(lines(exported).subList(1, lines(exported).size()));
  }

  @Test
  void anInterruptedImportIsCompletedByImportingAgain() {
    Path dir = shared.resolve("interrupted");
    List<String> all = lines(exported);
    // Everything up to some history record, as if the import had stopped there.
    int cut = 0;
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).startsWith("{\"kind\":\"history\"")) {
        cut = i + 1;
        break;
      }
    }
    List<String> part = new ArrayList<>(all.subList(0, cut));
    Map<String, Long> counts = kinds(String.join("\n", part) + "\n");
    part.add("{\"kind\":\"end\",\"counts\":{\"collection\":" + counts.get("collection") + ",\"vertex\":"
        + counts.get("vertex") + ",\"edge\":" + counts.get("edge") + ",\"history\":1,\"request\":0}}");
    importInto(dir, String.join("\n", part) + "\n", Importer.OnConflict.FAIL);
    Importer.Summary s = importInto(dir, exported, Importer.OnConflict.FAIL);
    assertThat(s.unchanged().get(Kind.HISTORY)).isEqualTo(1);
    assertThat(s.written().get(Kind.HISTORY)).isEqualTo(s.read().get(Kind.HISTORY) - 1);
    assertThat(lines(export(dir)).subList(1, all.size())).isEqualTo(all.subList(1, all.size()));
  }

  @Test
  void aDifferingRecordIsAConflictNamingItUnlessSkipped() {
    Path dir = shared.resolve("conflict");
    importInto(dir, exported, Importer.OnConflict.FAIL);
    String line = lines(exported).stream().filter(l -> l.contains("\"name\":\"lasso\"")).findFirst().orElseThrow();
    String id = line.substring(line.indexOf("\"id\":\"") + 6, line.indexOf("\",\"name\""));
    String changed = exported.replace(line, line.replace("\"estimator\":\"Lasso\"", "\"estimator\":\"Ridge\""));
    assertThatThrownBy(() -> importInto(dir, changed, Importer.OnConflict.FAIL))
        .isInstanceOf(Importer.ImportException.class)
        .hasMessageContaining("vertex " + id + " exists in the store with other contents (doc differ)")
        .hasMessageContaining("line " + (lines(exported).indexOf(line) + 1));
    Importer.Summary s = importInto(dir, changed, Importer.OnConflict.SKIP);
    assertThat(s.conflicts().get(Kind.VERTEX)).isEqualTo(1);
    assertThat(s.written().values()).containsOnly(0L);
    assertThat(export(dir)).contains("\"estimator\":\"Lasso\"").doesNotContain("Ridge");
  }

  @Test
  void anEdgeToAMissingVertexIsRefused() {
    // The file defines the collections but its vertex lines are dropped: the edges dangle.
    String noVertices = lines(exported).stream().filter(l -> !l.startsWith("{\"kind\":\"vertex\""))
        .filter(l -> !l.startsWith("{\"kind\":\"end\"")).collect(Collectors.joining("\n")) + "\n";
    Map<String, Long> k = kinds(noVertices);
    String file = noVertices + "{\"kind\":\"end\",\"counts\":{\"collection\":" + k.get("collection")
        + ",\"vertex\":0,\"edge\":" + k.get("edge") + ",\"history\":" + k.get("history") + ",\"request\":"
        + k.get("request") + "}}\n";
    assertThatThrownBy(() -> importInto(shared.resolve("dangling"), file, Importer.OnConflict.SKIP))
        .isInstanceOf(Importer.ImportException.class)
        .hasMessageContaining("which is neither in the file nor in the store");
  }

  // ---- bad files ---------------------------------------------------------------------------------

  static String withLine(int index, String replacement) {
    List<String> l = new ArrayList<>(lines(exported));
    l.set(index, replacement);
    return String.join("\n", l) + "\n";
  }

  static int firstLineOf(String kind) {
    List<String> l = lines(exported);
    for (int i = 0; i < l.size(); i++) {
      if (l.get(i).startsWith("{\"kind\":\"" + kind + "\"")) {
        return i;
      }
    }
    throw new AssertionError(kind);
  }

  static void refused(String file, String... messageParts) {
    assertThatThrownBy(() -> Importer.check(new StringReader(file)))
        .isInstanceOf(DumpFormat.FormatException.class)
        .satisfies(e -> {
          for (String part : messageParts) {
            assertThat(e.getMessage()).contains(part);
          }
        });
  }

  @Test
  void aTruncatedFileIsRefused() {
    List<String> l = lines(exported);
    refused(String.join("\n", l.subList(0, l.size() - 1)) + "\n", "line " + (l.size() - 1),
        "ends without its end line: it is truncated");
    // Cut in the middle of a line.
    int cut = exported.length() / 2;
    while (exported.charAt(cut - 1) == '\n') {
      cut++;
    }
    refused(exported.substring(0, cut), "the last line has no newline: the file is truncated");
    refused("", "the file is empty");
    // A line removed in the middle: the end line's counts say so.
    int v = firstLineOf("vertex");
    List<String> missing = new ArrayList<>(l);
    missing.remove(v);
    refused(String.join("\n", missing) + "\n", "line " + (l.size() - 1), "field \"counts\"",
        "holds " + (kinds(exported).get("vertex") - 1));
  }

  @Test
  void aCorruptedLineIsRefusedWithItsNumberAndField() {
    int v = firstLineOf("vertex");
    String line = lines(exported).get(v);
    refused(withLine(v, line.substring(0, line.length() / 2)), "line " + (v + 1) + ": not a JSON object");
    refused(withLine(v, line.replaceFirst("\"create_time\":\"[^\"]+\"", "\"create_time\":\"yesterday\"")),
        "line " + (v + 1) + ": field \"create_time\": must be an RFC 3339 time");
    refused(withLine(v, line.replaceFirst("\"project\":\"[^\"]*\"", "\"project\":7")),
        "line " + (v + 1) + ": field \"project\": must be a string");
    refused(withLine(v, line.replaceFirst("\"id\":\"[^\"]+\"", "\"id\":\"datasets/../../x\"")),
        "line " + (v + 1) + ": field \"id\"");
    refused(withLine(v, line.replaceFirst("\"creator\":", "\"extra\":1,\"creator\":")),
        "line " + (v + 1) + ": field \"extra\": not a field of a vertex line");
    refused(withLine(v, line.replaceFirst("\"creator\":\"[^\"]*\",", "")), "field \"creator\": is missing");
    refused(withLine(v, line.replaceFirst("\"project\":", "\"project\":\"a\",\"project\":")),
        "line " + (v + 1) + ": not a JSON object", "Duplicate field");
    refused(withLine(v, "{\"kind\":\"vertex\",\"id\":\"nope/k\",\"name\":null,\"project\":\"\",\"create_time\":"
        + "\"2024-01-01T00:00:00Z\",\"update_time\":\"2024-01-01T00:00:00Z\",\"creator\":\"x\",\"doc\":{}}"),
        "line " + (v + 1) + ": field \"id\": \"nope\" is not a vertex collection defined earlier");
    refused(withLine(v, "[1,2]"), "line " + (v + 1) + ": not a JSON object");
    refused(withLine(v, ""), "line " + (v + 1) + ": an empty line");
    int h = firstLineOf("history");
    refused(withLine(h, lines(exported).get(v)), "line " + (h + 1) + ": a vertex line after edge lines");
  }

  @Test
  void anUnknownKindIsRefused() {
    int v = firstLineOf("vertex");
    refused(withLine(v, "{\"kind\":\"vortex\",\"id\":\"run/x\"}"), "line " + (v + 1),
        "field \"kind\": unknown kind \"vortex\"");
  }

  @Test
  void anotherFormatOrVersionIsRefused() {
    String header = lines(exported).get(0);
    refused(withLine(0, header.replace("\"version\":1", "\"version\":2")), "line 1: field \"version\":",
        "format version 2", "import it with the release that wrote it or a newer one");
    refused(withLine(0, header.replace("arangopipe-export", "mlflow-export")), "line 1: field \"format\"",
        "not an Arangopipe export");
    refused(withLine(0, lines(exported).get(1)), "line 1: the first line must be the header");
    refused(exported + exported, "line " + (lines(exported).size() + 1), "a line after the end line");
  }

  // ---- the commands ------------------------------------------------------------------------------

  @Test
  void theCommandsExportAndImportFilesAndSayWhatToDoWhenTheFolderIsInUse() throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream errs = new PrintStream(err, true, StandardCharsets.UTF_8);
    Path file = shared.resolve("cmd-export.jsonl");
    int rc = new picocli.CommandLine(new ExportCommand(System.out, errs))
        .execute("--data-dir", source.toString(), "--out", file.toString());
    assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
    assertThat(Files.readString(file).lines().skip(1).toList())
        .isEqualTo(lines(exported).subList(1, lines(exported).size()));
    assertThat(Files.getPosixFilePermissions(file))
        .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("export: ").contains(" vertex");

    Path target = shared.resolve("cmd-import");
    err.reset();
    rc = new picocli.CommandLine(new ImportCommand(System.in, errs))
        .execute("--data-dir", target.toString(), "--in", file.toString());
    assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("0 conflicts");

    // Standard input, into the same store again: all unchanged.
    err.reset();
    rc = new picocli.CommandLine(new ImportCommand(new ByteArrayInputStream(Files.readAllBytes(file)), errs))
        .execute("--data-dir", target.toString());
    assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
    assertThat(err.toString(StandardCharsets.UTF_8)).contains(" 0 written");

    // A bad file: nothing written, the line named, exit status 1.
    Path bad = shared.resolve("bad.jsonl");
    Files.writeString(bad, withLine(firstLineOf("edge"), "{\"kind\":\"edge\"}"));
    err.reset();
    rc = new picocli.CommandLine(new ImportCommand(System.in, errs))
        .execute("--data-dir", shared.resolve("never").toString(), "--in", bad.toString());
    assertThat(rc).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("line " + (firstLineOf("edge") + 1));
    assertThat(shared.resolve("never")).doesNotExist();

    // The folder in use by a server.
    try (SqliteStore held = SqliteStore.open(source, SqliteStore.Options.defaults())) {
      err.reset();
      rc = new picocli.CommandLine(new ExportCommand(System.out, errs))
          .execute("--data-dir", source.toString(), "--out", shared.resolve("x.jsonl").toString());
      assertThat(rc).isEqualTo(1);
      assertThat(err.toString(StandardCharsets.UTF_8)).contains("is in use by a running Arangopipe server")
          .contains("Stop the server");
      assertThat(shared.resolve("x.jsonl")).doesNotExist();
    }
    // Bad options: exit status 2.
    err.reset();
    rc = new picocli.CommandLine(new ImportCommand(System.in, errs))
        .execute("--data-dir", target.toString(), "--in", file.toString(), "--on-conflict", "merge");
    assertThat(rc).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--on-conflict must be fail or skip");
    err.reset();
    rc = new picocli.CommandLine(new ExportCommand(System.out, errs))
        .execute("--data-dir", shared.resolve("nothing-here").toString());
    assertThat(rc).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("holds no embedded store");
  }

  // ---- helpers -----------------------------------------------------------------------------------

  /** The real server on a folder, in-process. */
  static final class Running implements AutoCloseable {
    final ArangopipeServer server;
    final ManagedChannel channel;

    Running(Path dir, String adminToken) throws Exception {
      String name = InProcessServerBuilder.generateName();
      ServerConfig c = ServerConfig.forTests(dir);
      server = new ArangopipeServer(adminToken == null ? c.withAuthMode(ServerConfig.AuthMode.AUTO)
          : c.withAuth(adminToken), InProcessServerBuilder.forName(name));
      channel = InProcessChannelBuilder.forName(name).build();
    }

    Channel as(String token) {
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
      return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(md));
    }

    AdminServiceGrpc.AdminServiceBlockingStub admin(String token) {
      return AdminServiceGrpc.newBlockingStub(as(token)).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    TrackingServiceGrpc.TrackingServiceBlockingStub tracking(String token) {
      return TrackingServiceGrpc.newBlockingStub(as(token)).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    LineageServiceGrpc.LineageServiceBlockingStub lineage(String token) {
      return LineageServiceGrpc.newBlockingStub(as(token)).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    Answers answers(String token, String datasetId) {
      LineageServiceGrpc.LineageServiceBlockingStub l = lineage(token);
      String deployment = tracking(token).getDeployment(GetDeploymentRequest.newBuilder().setDeploymentTag("prod")
          .build()).getDeployment().getId();
      return new Answers(
          l.getLineage(GetLineageRequest.newBuilder().setStartId(datasetId)
              .setDirection(LineageDirection.LINEAGE_DIRECTION_DOWNSTREAM).setMaxDepth(6).build()),
          l.searchRuns(SearchRunsRequest.newBuilder().setProject("housing").setFilter("devperf.rmse < 0.29")
              .setOrderBy("devperf.rmse").build()),
          l.getHistory(GetHistoryRequest.newBuilder().setId(deployment).build()),
          admin(token).listTypes(ListTypesRequest.getDefaultInstance()),
          admin(token).getCurrentUser(GetCurrentUserRequest.getDefaultInstance()),
          admin(ADMIN_TOKEN).listTokens(ListTokensRequest.newBuilder().setUser("alice").build()));
    }

    @Override
    public void close() throws Exception {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.close();
    }
  }

  static Struct struct(Object... kv) {
    Struct.Builder b = Struct.newBuilder();
    for (int i = 0; i < kv.length; i += 2) {
      b.putFields((String) kv[i], value(kv[i + 1]));
    }
    return b.build();
  }

  static Value value(Object v) {
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
}
