package io.arangopipe.server.store;

/** A request field breaks a rule. {@code field} is the request field's path, e.g. {@code document.a.b}. */
public final class InvalidArgumentException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final String field;
  private final String rule;

  public InvalidArgumentException(String field, String rule) {
    super(field + ": " + rule);
    this.field = field;
    this.rule = rule;
  }

  public String field() {
    return field;
  }

  public String rule() {
    return rule;
  }
}
