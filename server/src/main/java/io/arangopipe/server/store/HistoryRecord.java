package io.arangopipe.server.store;

import java.time.Instant;
import java.util.Map;

/**
 * A change to an entity after its creation (creation itself is recorded on the entity: create time and
 * creator). {@code changes} maps each changed attribute to {@code {"old": ..., "new": ...}}.
 */
public record HistoryRecord(long seq, EntityId id, Instant time, String actor, String action,
    Map<String, Object> changes) {}
