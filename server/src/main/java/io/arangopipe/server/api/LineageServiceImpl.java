package io.arangopipe.server.api;

import static io.arangopipe.server.api.Calls.unary;

import io.arangopipe.server.core.MetadataCore;
import io.arangopipe.server.core.Views;
import io.arangopipe.v1.GetLineageRequest;
import io.arangopipe.v1.GetLineageResponse;
import io.arangopipe.v1.LineageServiceGrpc;
import io.grpc.stub.StreamObserver;

/** LineageService: unpack, call the core, pack. */
public final class LineageServiceImpl extends LineageServiceGrpc.LineageServiceImplBase {
  private final MetadataCore core;

  public LineageServiceImpl(MetadataCore core) {
    this.core = core;
  }

  @Override
  public void getLineage(GetLineageRequest req, StreamObserver<GetLineageResponse> out) {
    unary(out, () -> {
      Views.Lineage l = core.lineage(req.getStartId(), Protos.direction(req.getDirection()), req.getMaxDepth(),
          req.getMaxNodes());
      GetLineageResponse.Builder b = GetLineageResponse.newBuilder().setTruncated(l.truncated());
      l.nodes().forEach(v -> b.addNodes(Protos.entity(v)));
      l.edges().forEach(e -> b.addEdges(Protos.edge(e)));
      return b.build();
    });
  }
}
