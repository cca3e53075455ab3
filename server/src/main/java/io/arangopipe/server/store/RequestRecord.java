package io.arangopipe.server.store;

import java.time.Instant;

/**
 * What an idempotent write left behind: the request id, which operation and request it was (a
 * fingerprint), and an encoding of its result. Stored in the same transaction as the write.
 */
public record RequestRecord(
    String requestId, String operation, String fingerprint, String result, Instant createTime) {}
