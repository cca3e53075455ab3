package io.arangopipe.server.core;

import io.arangopipe.server.store.InvalidArgumentException;
import io.arangopipe.server.store.Json;
import io.arangopipe.server.store.Sha256;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * Opaque keyset page tokens: the position after the last row of a page, bound to the query that made it
 * so that a token cannot be replayed against another query.
 */
final class PageTokens {
  static final int DEFAULT_PAGE_SIZE = 50;
  static final int MAX_PAGE_SIZE = 1000;

  /** A decoded position: the last row's order value and key. */
  record Position(String after, String afterKey) {}

  private PageTokens() {}

  static int pageSize(int requested) {
    if (requested < 0) {
      throw new InvalidArgumentException("page_size", "must not be negative (got " + requested + ")");
    }
    if (requested == 0) {
      return DEFAULT_PAGE_SIZE;
    }
    return Math.min(requested, MAX_PAGE_SIZE);
  }

  /** A short hash of the query's defining parts. */
  static String queryHash(Object... parts) {
    byte[] d = Sha256.digest(Json.write(Arrays.asList(parts)).getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(d, 0, 8);
  }

  static String encode(String queryHash, String after, String afterKey) {
    String json = Json.write(Arrays.asList(queryHash, after, afterKey));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  /** Decodes a token; {@code null} for an empty one (the first page). */
  static Position decode(String token, String queryHash) {
    if (token == null || token.isEmpty()) {
      return null;
    }
    List<Object> parts;
    try {
      parts = Json.parseList(new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new InvalidArgumentException("page_token", "is not a token this server issued");
    }
    if (parts.size() != 3 || !(parts.get(0) instanceof String h) || !(parts.get(1) instanceof String after)) {
      throw new InvalidArgumentException("page_token", "is not a token this server issued");
    }
    if (!h.equals(queryHash)) {
      throw new InvalidArgumentException("page_token",
          "belongs to a different query; repeat the query that returned it, or start again without a page_token");
    }
    return new Position(after, parts.get(2) instanceof String k ? k : null);
  }
}
