package io.arangopipe.server.query;

import io.arangopipe.server.store.VertexDoc;

/** A run with the entities it is linked to; absent links are null. */
public record RunRow(
    VertexDoc run, VertexDoc modelParams, VertexDoc devPerf, VertexDoc dataset, VertexDoc featureset,
    VertexDoc model) {}
