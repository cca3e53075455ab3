package io.arangopipe.server.store;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A stored vertex: the system fields the server owns and the user's schemaless document.
 *
 * @param id collection and key
 * @param name the name, unique within (collection, project); {@code null} for unnamed vertices
 * @param project the owning project's name, {@code ""} for global vertices
 * @param doc the document: values are null, Boolean, Long, Double, String, List and Map only
 * @param createTime when it was created
 * @param updateTime when it last changed
 * @param creator who created it
 */
public record VertexDoc(
    EntityId id,
    String name,
    String project,
    Map<String, Object> doc,
    Instant createTime,
    Instant updateTime,
    String creator) {

  public VertexDoc {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(project, "project");
    Objects.requireNonNull(doc, "doc");
    Objects.requireNonNull(createTime, "createTime");
    Objects.requireNonNull(updateTime, "updateTime");
    Objects.requireNonNull(creator, "creator");
  }

  public VertexDoc withDoc(Map<String, Object> newDoc, Instant when) {
    return new VertexDoc(id, name, project, newDoc, createTime, when, creator);
  }
}
