package io.arangopipe.server.query;

/** A filter that cannot be parsed or bound; the message names the position and what was expected. */
public final class FilterSyntaxException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int position;

  public FilterSyntaxException(int position, String message) {
    super(message);
    this.position = position;
  }

  /** 0-based character offset, or -1 when the problem is not at one place. */
  public int position() {
    return position;
  }
}
