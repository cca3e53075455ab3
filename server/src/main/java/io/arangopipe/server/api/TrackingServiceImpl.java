package io.arangopipe.server.api;

import static io.arangopipe.server.api.Calls.who;
import static io.arangopipe.server.api.Calls.idempotency;
import static io.arangopipe.server.api.Calls.unary;

import io.arangopipe.server.core.Analytics;
import io.arangopipe.server.core.MetadataCore;
import io.arangopipe.server.core.Views;
import io.arangopipe.server.store.VertexDoc;
import io.arangopipe.v1.FindEntitiesRequest;
import io.arangopipe.v1.FindEntitiesResponse;
import io.arangopipe.v1.GetDeploymentRequest;
import io.arangopipe.v1.GetDeploymentResponse;
import io.arangopipe.v1.GetEntityRequest;
import io.arangopipe.v1.GetEntityResponse;
import io.arangopipe.v1.GetRunRequest;
import io.arangopipe.v1.GetRunResponse;
import io.arangopipe.v1.InsertEdgeRequest;
import io.arangopipe.v1.InsertEdgeResponse;
import io.arangopipe.v1.InsertVertexRequest;
import io.arangopipe.v1.InsertVertexResponse;
import io.arangopipe.v1.LinkEntitiesRequest;
import io.arangopipe.v1.LinkEntitiesResponse;
import io.arangopipe.v1.ListEntitiesRequest;
import io.arangopipe.v1.ListEntitiesResponse;
import io.arangopipe.v1.LogRunRequest;
import io.arangopipe.v1.LogRunResponse;
import io.arangopipe.v1.LogServingPerfRequest;
import io.arangopipe.v1.LogServingPerfResponse;
import io.arangopipe.v1.LookupEntityRequest;
import io.arangopipe.v1.LookupEntityResponse;
import io.arangopipe.v1.RegisterDatasetRequest;
import io.arangopipe.v1.RegisterDatasetResponse;
import io.arangopipe.v1.RegisterFeaturesetRequest;
import io.arangopipe.v1.RegisterFeaturesetResponse;
import io.arangopipe.v1.RegisterModelRequest;
import io.arangopipe.v1.RegisterModelResponse;
import io.arangopipe.v1.TrackingServiceGrpc;
import io.arangopipe.v1.ServingPerfRecord;
import io.arangopipe.v1.StreamServingPerfRequest;
import io.arangopipe.v1.StreamServingPerfResponse;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;

/** TrackingService: unpack, call the core, pack. */
public final class TrackingServiceImpl extends TrackingServiceGrpc.TrackingServiceImplBase {
  private final MetadataCore core;
  private final Analytics analytics;

  /** Where answers to asynchronous writes are built and sent: the server's RPC executor. */
  private final java.util.concurrent.Executor executor;

  public TrackingServiceImpl(MetadataCore core, Analytics analytics) {
    this(core, analytics, Runnable::run);
  }

  public TrackingServiceImpl(MetadataCore core, Analytics analytics, java.util.concurrent.Executor executor) {
    this.executor = executor;
    this.core = core;
    this.analytics = analytics;
  }

  @Override
  public void registerDataset(RegisterDatasetRequest req, StreamObserver<RegisterDatasetResponse> out) {
    unary(out, () -> RegisterDatasetResponse.newBuilder().setDataset(Protos.entity(core.registerDataset(who(), 
        req.getName(), req.getProject(), Protos.toMap("document", req.getDocument()),
        idempotency("RegisterDataset", req.getRequestId(), req.toBuilder().clearRequestId().build())))).build());
  }

  @Override
  public void registerFeatureset(RegisterFeaturesetRequest req, StreamObserver<RegisterFeaturesetResponse> out) {
    unary(out, () -> RegisterFeaturesetResponse.newBuilder().setFeatureset(Protos.entity(core.registerFeatureset(who(), 
        req.getName(), req.getProject(), req.getDatasetId(), Protos.toMap("document", req.getDocument()),
        idempotency("RegisterFeatureset", req.getRequestId(), req.toBuilder().clearRequestId().build()))))
        .build());
  }

  @Override
  public void registerModel(RegisterModelRequest req, StreamObserver<RegisterModelResponse> out) {
    unary(out, () -> RegisterModelResponse.newBuilder().setModel(Protos.entity(core.registerModel(who(), 
        req.getName(), req.getProject(), Protos.toMap("document", req.getDocument()),
        idempotency("RegisterModel", req.getRequestId(), req.toBuilder().clearRequestId().build())))).build());
  }

  @Override
  public void logRun(LogRunRequest req, StreamObserver<LogRunResponse> out) {
    Calls.unaryAsync(out, () -> {
      MetadataCore.RunSpec spec = new MetadataCore.RunSpec(req.getRunId(), req.getProject(), req.getTag(),
          req.getDeploymentTag(),
          Protos.toInstant("start_time", req.hasStartTime(), req.getStartTime()),
          Protos.toInstant("end_time", req.hasEndTime(), req.getEndTime()),
          Protos.runStatus(req.getStatus()), req.getModelId(), req.getDatasetId(), req.getFeaturesetId(),
          Protos.toMap("model_params", req.getModelParams()), Protos.toMap("dev_perf", req.getDevPerf()),
          Protos.toMap("properties", req.getProperties()));
      return core.logRunAsync(who(), spec,
          idempotency("LogRun", req.getRequestId(), req.toBuilder().clearRequestId().build()));
    }, r -> runResponse(r, LogRunResponse.newBuilder()).build(), executor);
  }

  private static LogRunResponse.Builder runResponse(Views.RunView r, LogRunResponse.Builder b) {
    b.setRun(Protos.run(r));
    if (r.modelParams() != null) {
      b.setModelParams(Protos.entity(r.modelParams()));
    }
    if (r.devPerf() != null) {
      b.setDevPerf(Protos.entity(r.devPerf()));
    }
    return b;
  }

  @Override
  public void logServingPerf(LogServingPerfRequest req, StreamObserver<LogServingPerfResponse> out) {
    unary(out, () -> LogServingPerfResponse.newBuilder().setServingPerf(Protos.entity(core.logServingPerf(who(), 
        req.getDeploymentTag(), Protos.toMap("metrics", req.getMetrics()),
        Protos.toInstant("time", req.hasTime(), req.getTime()),
        idempotency("LogServingPerf", req.getRequestId(), req.toBuilder().clearRequestId().build())))).build());
  }

  /**
   * Batches of one StreamServingPerf call written at the same time: while one waits for its group commit,
   * the next ones are read and queued, so they can share a commit. Bounds the memory a stream holds.
   */
  static final int STREAM_WINDOW = 4;

  @Override
  public StreamObserver<StreamServingPerfRequest> streamServingPerf(
      StreamObserver<StreamServingPerfResponse> out) {
    // Manual flow control: up to STREAM_WINDOW batches in flight; one more is read as each one completes.
    io.grpc.stub.ServerCallStreamObserver<StreamServingPerfResponse> call =
        out instanceof io.grpc.stub.ServerCallStreamObserver<StreamServingPerfResponse> c ? c : null;
    if (call != null) {
      call.disableAutoRequest();
      call.request(STREAM_WINDOW);
    }
    return new StreamObserver<>() {
      private final Object lock = new Object();
      // Accepted in order: a batch counts once it is durable.
      private long batches;
      private long records;
      private int pending;
      private RuntimeException error;
      private boolean halfClosed;
      private boolean finished;
      private boolean clientGone;
      /**
       * The sequence number of the first batch that failed (Long.MAX_VALUE while none has): the batches
       * queued behind it write nothing. Set on the writer thread when a write fails, or on the RPC thread
       * when a batch is refused before it is queued.
       */
      private final java.util.concurrent.atomic.AtomicLong failedAt = new java.util.concurrent.atomic.AtomicLong(
          Long.MAX_VALUE);
      /** Batches read so far (RPC thread only). */
      private long submitted;

      /**
       * The guard of batch {@code seq}. Keyed by position, not a flag, because a store may run a batch's
       * write more than once (undoing all but the last attempt): a batch that failed in an attempt that was
       * undone must not refuse the batches submitted before it.
       */
      private MetadataCore.BatchGuard guard(long seq) {
        return new MetadataCore.BatchGuard() {
          @Override
          public RuntimeException refusal() {
            return seq > failedAt.get() ? new io.arangopipe.server.store.AbortedException(
                "an earlier batch of this stream failed; this one was not written", null) : null;
          }

          @Override
          public void failed() {
            failedAt.accumulateAndGet(seq, Math::min);
          }
        };
      }

      @Override
      public void onNext(StreamServingPerfRequest batch) {
        synchronized (lock) {
          if (error != null || clientGone) {
            return;
          }
        }
        java.util.concurrent.CompletableFuture<Long> written;
        int n = batch.getRecordsCount();
        long seq = submitted++;
        try {
          List<MetadataCore.ServingRecord> recs = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            ServingPerfRecord r = batch.getRecords(i);
            recs.add(new MetadataCore.ServingRecord(r.getDeploymentTag(),
                Protos.toMap("records[" + i + "].metrics", r.getMetrics()),
                Protos.toInstant("records[" + i + "].time", r.hasTime(), r.getTime())));
          }
          written = core.logServingPerfBatchAsync(who(), recs, "records", idempotency("StreamServingPerf",
              batch.getRequestId(), batch.toBuilder().clearRequestId().build()), guard(seq));
        } catch (RuntimeException e) {
          failedAt.accumulateAndGet(seq, Math::min);
          synchronized (lock) {
            fail(e);
          }
          return;
        }
        synchronized (lock) {
          pending++;
        }
        // Runs once the batch is durable (or failed), in submission order. A batch that failed without its
        // write running (cancelled, the store's own failure) refuses the later ones here; that happens on
        // the writer thread before it runs the next batch, except after a cancellation (then the whole
        // call is gone).
        written.whenComplete((ok, failure) -> {
          if (failure != null) {
            failedAt.accumulateAndGet(seq, Math::min);
          }
          synchronized (lock) {
            pending--;
            if (failure == null) {
              if (error == null) {
                batches++;
                records += n;
              }
            } else {
              fail(failure instanceof java.util.concurrent.CompletionException && failure.getCause()
                  instanceof RuntimeException r ? r : failure instanceof RuntimeException r ? r
                  : new IllegalStateException(failure));
            }
            if (error == null && !clientGone && call != null) {
              call.request(1);
            }
            finish();
          }
        });
      }

      /** The first failure ends the call, once the batches before it have completed. Holds the lock. */
      private void fail(RuntimeException e) {
        if (error == null) {
          error = e;
        }
        finish();
      }

      /** Answers once nothing is in flight: the first error with the progress before it, or the totals. */
      private void finish() {
        if (finished || pending > 0 || clientGone) {
          return;
        }
        if (error != null) {
          finished = true;
          out.onError(StatusMapper.withProgress(StatusMapper.toStatus(error), batches, records));
        } else if (halfClosed) {
          finished = true;
          out.onNext(StreamServingPerfResponse.newBuilder().setAcceptedBatches(batches).setAcceptedRecords(records)
              .build());
          out.onCompleted();
        }
      }

      @Override
      public void onError(Throwable t) {
        synchronized (lock) {
          clientGone = true; // the client went away; what was accepted is written
        }
      }

      @Override
      public void onCompleted() {
        synchronized (lock) {
          halfClosed = true;
          finish();
        }
      }
    };
  }

  @Override
  public void getEntity(GetEntityRequest req, StreamObserver<GetEntityResponse> out) {
    unary(out, () -> {
      Views.VertexOrEdge found = core.getEntity(who(), req.getId());
      GetEntityResponse.Builder b = GetEntityResponse.newBuilder();
      if (found.vertex() != null) {
        b.setEntity(Protos.entity(found.vertex()));
      } else {
        b.setEdge(Protos.edge(found.edge()));
      }
      return b.build();
    });
  }

  @Override
  public void lookupEntity(LookupEntityRequest req, StreamObserver<LookupEntityResponse> out) {
    unary(out, () -> LookupEntityResponse.newBuilder().setEntity(Protos.entity(core.lookupEntity(who(), 
        req.getCollection(), req.getName(), req.getProject()))).build());
  }

  @Override
  public void getRun(GetRunRequest req, StreamObserver<GetRunResponse> out) {
    unary(out, () -> {
      Views.RunView r = core.getRun(who(), req.getRunId(), req.getTag());
      GetRunResponse.Builder b = GetRunResponse.newBuilder().setRun(Protos.run(r));
      if (r.modelParams() != null) {
        b.setModelParams(Protos.entity(r.modelParams()));
      }
      if (r.devPerf() != null) {
        b.setDevPerf(Protos.entity(r.devPerf()));
      }
      return b.build();
    });
  }

  @Override
  public void getDeployment(GetDeploymentRequest req, StreamObserver<GetDeploymentResponse> out) {
    unary(out, () -> GetDeploymentResponse.newBuilder()
        .setDeployment(Protos.deployment(core.getDeployment(who(), req.getDeploymentTag()))).build());
  }

  @Override
  public void findEntities(FindEntitiesRequest req, StreamObserver<FindEntitiesResponse> out) {
    unary(out, () -> {
      if (!req.hasValue()) {
        throw new io.arangopipe.server.store.InvalidArgumentException("value",
            "is required: a string, number, boolean or null");
      }
      Views.Page<VertexDoc> page = analytics.findEntities(who(), req.getCollection(), req.getAttribute(),
          Protos.toJava("value", req.getValue(), 1), req.getProject(), req.getFilter(), req.getOrderBy(),
          req.getPageSize(), req.getPageToken());
      FindEntitiesResponse.Builder b = FindEntitiesResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.items().forEach(v -> b.addEntities(Protos.entity(v)));
      return b.build();
    });
  }

  @Override
  public void listEntities(ListEntitiesRequest req, StreamObserver<ListEntitiesResponse> out) {
    unary(out, () -> {
      Views.Page<VertexDoc> page = analytics.listEntities(who(), req.getCollection(), req.getProject(), req.getFilter(),
          req.getOrderBy(), List.of(), req.getPageSize(), req.getPageToken());
      ListEntitiesResponse.Builder b = ListEntitiesResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.items().forEach(v -> b.addEntities(Protos.entity(v)));
      return b.build();
    });
  }

  @Override
  public void linkEntities(LinkEntitiesRequest req, StreamObserver<LinkEntitiesResponse> out) {
    unary(out, () -> LinkEntitiesResponse.newBuilder().setEntity(Protos.entity(core.linkEntities(who(), req.getFromId(),
        req.getToId(),
        idempotency("LinkEntities", req.getRequestId(), req.toBuilder().clearRequestId().build())))).build());
  }

  @Override
  public void insertVertex(InsertVertexRequest req, StreamObserver<InsertVertexResponse> out) {
    unary(out, () -> InsertVertexResponse.newBuilder().setEntity(Protos.entity(core.insertVertex(who(), 
        req.getCollection(), req.getKey(), req.getName(), req.getProject(),
        Protos.toMap("document", req.getDocument()),
        idempotency("InsertVertex", req.getRequestId(), req.toBuilder().clearRequestId().build())))).build());
  }

  @Override
  public void insertEdge(InsertEdgeRequest req, StreamObserver<InsertEdgeResponse> out) {
    unary(out, () -> InsertEdgeResponse.newBuilder().setEdge(Protos.edge(core.insertEdge(who(), req.getCollection(),
        req.getFromId(), req.getToId(), Protos.toMap("document", req.getDocument()),
        idempotency("InsertEdge", req.getRequestId(), req.toBuilder().clearRequestId().build())))).build());
  }
}
