package io.arangopipe.server.query;

/**
 * A keyset position: rows strictly after the row whose order value was {@code value} (null when the row
 * lacked the field) and whose key was {@code key}. {@code value} is a Long, Double, String or null.
 */
public record Cursor(Object value, String key) {}
