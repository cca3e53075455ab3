package io.arangopipe.server.api;

import static io.arangopipe.server.api.Calls.unary;
import static io.arangopipe.server.api.Calls.who;

import io.arangopipe.server.core.Analytics;
import io.arangopipe.server.core.MetadataCore;
import io.arangopipe.server.core.Views;
import io.arangopipe.server.query.Aggregation;
import io.arangopipe.server.query.RunRow;
import io.arangopipe.server.store.InvalidArgumentException;
import io.arangopipe.v1.Aggregate;
import io.arangopipe.v1.AggregateEntitiesRequest;
import io.arangopipe.v1.AggregateEntitiesResponse;
import io.arangopipe.v1.AggregateRow;
import io.arangopipe.v1.AggregateRunsRequest;
import io.arangopipe.v1.AggregateRunsResponse;
import io.arangopipe.v1.CompareServingToDevRequest;
import io.arangopipe.v1.CompareServingToDevResponse;
import io.arangopipe.v1.DeploymentPerformance;
import io.arangopipe.v1.GetHistoryRequest;
import io.arangopipe.v1.GetHistoryResponse;
import io.arangopipe.v1.GetImpactRequest;
import io.arangopipe.v1.GetImpactResponse;
import io.arangopipe.v1.GetLineageRequest;
import io.arangopipe.v1.GetLineageResponse;
import io.arangopipe.v1.GetRunRecipeRequest;
import io.arangopipe.v1.GetRunRecipeResponse;
import io.arangopipe.v1.GroupBy;
import io.arangopipe.v1.HistoryEvent;
import io.arangopipe.v1.ImpactedDeployment;
import io.arangopipe.v1.LineageServiceGrpc;
import io.arangopipe.v1.SearchRunsRequest;
import io.arangopipe.v1.SearchRunsResponse;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;

/** LineageService: unpack, call the core, pack. */
public final class LineageServiceImpl extends LineageServiceGrpc.LineageServiceImplBase {
  private final MetadataCore core;
  private final Analytics analytics;

  public LineageServiceImpl(MetadataCore core, Analytics analytics) {
    this.core = core;
    this.analytics = analytics;
  }

  @Override
  public void getLineage(GetLineageRequest req, StreamObserver<GetLineageResponse> out) {
    unary(out, () -> {
      int ways = (req.getStartId().isEmpty() ? 0 : 1) + (req.getStartIdsCount() == 0 ? 0 : 1)
          + (req.getStartCollection().isEmpty() && req.getStartFilter().isEmpty() ? 0 : 1);
      if (ways != 1) {
        throw new InvalidArgumentException("start_id",
            "give exactly one of start_id, start_ids, or start_collection with start_filter");
      }
      List<String> starts;
      if (!req.getStartId().isEmpty()) {
        starts = List.of(req.getStartId());
      } else if (req.getStartIdsCount() > 0) {
        starts = req.getStartIdsList();
      } else {
        starts = core.startIds(who(), req.getStartCollection(), req.getStartFilter());
      }
      Views.Lineage l = core.lineage(who(), starts, Protos.direction(req.getDirection()), req.getMaxDepth(),
          req.getMaxNodes(), req.getVertexTypesList(), req.getEdgeTypesList());
      GetLineageResponse.Builder b = GetLineageResponse.newBuilder().setTruncated(l.truncated());
      l.nodes().forEach(v -> b.addNodes(req.getIdsOnly() ? Protos.entityId(v) : Protos.entity(v)));
      l.edges().forEach(e -> b.addEdges(Protos.edge(e)));
      return b.build();
    });
  }

  @Override
  public void getImpact(GetImpactRequest req, StreamObserver<GetImpactResponse> out) {
    unary(out, () -> {
      if (req.getEntityId().isEmpty()) {
        throw new InvalidArgumentException("entity_id", "is required");
      }
      Analytics.ImpactResult r = analytics.impact(who(), req.getEntityId());
      GetImpactResponse.Builder b = GetImpactResponse.newBuilder().setTruncated(r.truncated());
      for (Analytics.Impact i : r.deployments()) {
        ImpactedDeployment.Builder d = ImpactedDeployment.newBuilder().setDeployment(Protos.deployment(i.deployment()))
            .setDistance(i.distance());
        if (i.latestServingPerf() != null) {
          d.setLatestServingPerf(Protos.entity(i.latestServingPerf()));
        }
        b.addDeployments(d);
      }
      return b.build();
    });
  }

  @Override
  public void searchRuns(SearchRunsRequest req, StreamObserver<SearchRunsResponse> out) {
    unary(out, () -> {
      Views.Page<RunRow> page = analytics.searchRuns(who(), req.getProject(), req.getFilter(), req.getOrderBy(),
          req.getPageSize(), req.getPageToken());
      SearchRunsResponse.Builder b = SearchRunsResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.items().forEach(r -> b.addRuns(Protos.runRecord(r)));
      return b.build();
    });
  }

  @Override
  public void aggregateRuns(AggregateRunsRequest req, StreamObserver<AggregateRunsResponse> out) {
    unary(out, () -> {
      Analytics.AggregateResult r = analytics.aggregate(who(), null, req.getProject(), req.getFilter(),
          groups(req.getGroupByList()), aggregates(req.getAggregatesList()), req.getOrderByAggregate() - 1,
          req.getDescending(), req.getLimit());
      return AggregateRunsResponse.newBuilder().addAllGroupColumns(r.groupColumns())
          .addAllAggregateColumns(r.aggregateColumns()).addAllRows(rows(r)).setTruncated(r.truncated()).build();
    });
  }

  @Override
  public void aggregateEntities(AggregateEntitiesRequest req, StreamObserver<AggregateEntitiesResponse> out) {
    unary(out, () -> {
      if (req.getCollection().isEmpty()) {
        throw new InvalidArgumentException("collection", "is required");
      }
      Analytics.AggregateResult r = analytics.aggregate(who(), req.getCollection(), req.getProject(), req.getFilter(),
          groups(req.getGroupByList()), aggregates(req.getAggregatesList()), req.getOrderByAggregate() - 1,
          req.getDescending(), req.getLimit());
      return AggregateEntitiesResponse.newBuilder().addAllGroupColumns(r.groupColumns())
          .addAllAggregateColumns(r.aggregateColumns()).addAllRows(rows(r)).setTruncated(r.truncated()).build();
    });
  }

  private static List<Analytics.GroupSpec> groups(List<GroupBy> in) {
    List<Analytics.GroupSpec> out = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      GroupBy g = in.get(i);
      Aggregation.Bucket bucket = switch (g.getTimeBucket()) {
        case TIME_BUCKET_UNSPECIFIED -> Aggregation.Bucket.NONE;
        case TIME_BUCKET_DAY -> Aggregation.Bucket.DAY;
        case TIME_BUCKET_MONTH -> Aggregation.Bucket.MONTH;
        case TIME_BUCKET_YEAR -> Aggregation.Bucket.YEAR;
        default -> throw new InvalidArgumentException("group_by[" + i + "].time_bucket", "is not a known bucket");
      };
      out.add(new Analytics.GroupSpec(g.getField(), bucket, g.getCondition()));
    }
    return out;
  }

  private static List<Analytics.AggregateSpec> aggregates(List<Aggregate> in) {
    List<Analytics.AggregateSpec> out = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      Aggregate a = in.get(i);
      Aggregation.Function f = switch (a.getFunction()) {
        case AGGREGATE_FUNCTION_COUNT -> Aggregation.Function.COUNT;
        case AGGREGATE_FUNCTION_COUNT_DISTINCT -> Aggregation.Function.COUNT_DISTINCT;
        case AGGREGATE_FUNCTION_MIN -> Aggregation.Function.MIN;
        case AGGREGATE_FUNCTION_MAX -> Aggregation.Function.MAX;
        case AGGREGATE_FUNCTION_MEAN -> Aggregation.Function.MEAN;
        case AGGREGATE_FUNCTION_SUM -> Aggregation.Function.SUM;
        case AGGREGATE_FUNCTION_STDDEV -> Aggregation.Function.STDDEV;
        default -> throw new InvalidArgumentException("aggregates[" + i + "].function",
            "is required: COUNT, COUNT_DISTINCT, MIN, MAX, MEAN, SUM or STDDEV");
      };
      out.add(new Analytics.AggregateSpec(f, a.getField()));
    }
    return out;
  }

  private static List<AggregateRow> rows(Analytics.AggregateResult r) {
    List<AggregateRow> out = new ArrayList<>();
    for (Aggregation.Row row : r.rows()) {
      AggregateRow.Builder b = AggregateRow.newBuilder();
      row.keys().forEach(k -> b.addGroupValues(Protos.toValue(k)));
      row.values().forEach(v -> b.addValues(Protos.toValue(v)));
      out.add(b.build());
    }
    return out;
  }

  @Override
  public void getRunRecipe(GetRunRecipeRequest req, StreamObserver<GetRunRecipeResponse> out) {
    unary(out, () -> {
      Analytics.RunRecipe r = analytics.runRecipe(who(), req.getRunId());
      GetRunRecipeResponse.Builder b = GetRunRecipeResponse.newBuilder().setRun(Protos.run(r.run()));
      if (r.run().modelParams() != null) {
        b.setModelParams(Protos.entity(r.run().modelParams()));
      }
      if (r.run().devPerf() != null) {
        b.setDevPerf(Protos.entity(r.run().devPerf()));
      }
      if (r.dataset() != null) {
        b.setDataset(Protos.entity(r.dataset()));
      }
      if (r.featureset() != null) {
        b.setFeatureset(Protos.entity(r.featureset()));
      }
      if (r.featuresetDataset() != null) {
        b.setFeaturesetDataset(Protos.entity(r.featuresetDataset()));
      }
      if (r.model() != null) {
        b.setModel(Protos.entity(r.model()));
      }
      if (r.project() != null) {
        b.setProject(Protos.project(r.project()));
      }
      return b.build();
    });
  }

  @Override
  public void compareServingToDev(CompareServingToDevRequest req,
      StreamObserver<CompareServingToDevResponse> out) {
    unary(out, () -> {
      CompareServingToDevResponse.Builder b = CompareServingToDevResponse.newBuilder();
      for (Analytics.ServingVsDev d : analytics.servingVsDev(who(), req.getProject(), req.getDeploymentTag(),
          req.getMaxPoints())) {
        DeploymentPerformance.Builder p = DeploymentPerformance.newBuilder()
            .setDeployment(Protos.deployment(d.deployment()));
        if (d.devPerf() != null) {
          p.setDevPerf(Protos.entity(d.devPerf()));
        }
        d.serving().forEach(s -> p.addServingPerf(Protos.entity(s)));
        b.addDeployments(p);
      }
      return b.build();
    });
  }

  @Override
  public void getHistory(GetHistoryRequest req, StreamObserver<GetHistoryResponse> out) {
    unary(out, () -> {
      Views.Page<Analytics.HistoryEvent> page = analytics.history(who(), req.getId(), req.getPageSize(),
          req.getPageToken());
      GetHistoryResponse.Builder b = GetHistoryResponse.newBuilder().setNextPageToken(page.nextPageToken());
      for (Analytics.HistoryEvent e : page.items()) {
        b.addEvents(HistoryEvent.newBuilder().setTime(Protos.toTimestamp(e.time())).setActor(e.actor())
            .setAction(e.action()).setChanges(Protos.toStruct(e.changes())));
      }
      return b.build();
    });
  }
}
