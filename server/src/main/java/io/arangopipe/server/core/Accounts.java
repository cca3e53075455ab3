package io.arangopipe.server.core;

import io.arangopipe.server.core.Views.Page;
import io.arangopipe.server.store.AlreadyExistsException;
import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.Condition;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.FailedPreconditionException;
import io.arangopipe.server.store.Field;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.InvalidArgumentException;
import io.arangopipe.server.store.NotFoundException;
import io.arangopipe.server.store.ReadTx;
import io.arangopipe.server.store.Sha256;
import io.arangopipe.server.store.UnauthenticatedException;
import io.arangopipe.server.store.VertexDoc;
import io.arangopipe.server.store.VertexQuery;
import io.arangopipe.server.store.WriteTx;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Users, API tokens and project roles, kept in the store's hidden collections {@code _users} and
 * {@code _tokens} (names that no API call can address). Tokens are random 256-bit secrets; only their
 * SHA-256 is stored, as the token document's key, so that checking a token is one key lookup and a
 * database dump reveals no usable token. Nothing is cached: revoking a token or disabling a user takes
 * effect on the next call, on every server replica.
 */
public final class Accounts {
  public static final String USERS = "_users";
  public static final String TOKENS = "_tokens";
  static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.@\\-]{0,63}");
  static final int MIN_BOOTSTRAP_TOKEN = 16;

  /** A user's view: name, flags and roles. */
  public record User(VertexDoc doc) {
    public String name() {
      return doc.name();
    }

    public boolean serverAdmin() {
      return Boolean.TRUE.equals(doc.doc().get("server_admin"));
    }

    public boolean disabled() {
      return Boolean.TRUE.equals(doc.doc().get("disabled"));
    }

    public Map<String, Principal.Role> roles() {
      Map<String, Principal.Role> out = new TreeMap<>();
      if (doc.doc().get("roles") instanceof Map<?, ?> m) {
        m.forEach((k, v) -> out.put(String.valueOf(k), Principal.Role.valueOf(String.valueOf(v))));
      }
      return out;
    }
  }

  /** A token's metadata (never its secret). */
  public record Token(VertexDoc doc) {
    public String tokenId() {
      return String.valueOf(doc.doc().get("token_id"));
    }

    public String user() {
      return String.valueOf(doc.doc().get("user"));
    }

    public String description() {
      return String.valueOf(doc.doc().getOrDefault("description", ""));
    }

    public boolean revoked() {
      return Boolean.TRUE.equals(doc.doc().get("revoked"));
    }
  }

  /** A new token and its secret, which is shown this once. */
  public record NewToken(Token token, String secret) {}

  private final GraphStore store;
  private final Clock clock;
  private final Keys keys;
  private final SecureRandom random = new SecureRandom();

  public Accounts(GraphStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
    this.keys = new Keys(clock);
    store.write(tx -> {
      for (String hidden : List.of(USERS, TOKENS)) {
        if (tx.collection(hidden).isEmpty()) {
          tx.putCollection(CollectionDef.vertex(hidden, true));
        }
      }
      return null;
    });
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  static String hash(String token) {
    return Sha256.hex(token);
  }

  public boolean hasUsers() {
    return store.read(tx -> !tx.findVertices(new VertexQuery(USERS, List.of(), VertexQuery.Order.KEY, null, null,
        1)).isEmpty());
  }

  /**
   * At first start (no users yet), creates the server administrator "admin" whose token is the one the
   * operator gave. Later starts leave the users alone.
   *
   * @return true when the administrator was created
   */
  public boolean bootstrap(String adminToken) {
    if (adminToken == null || adminToken.strip().length() < MIN_BOOTSTRAP_TOKEN) {
      throw new IllegalArgumentException("the administrator token must be at least " + MIN_BOOTSTRAP_TOKEN
          + " characters (generate one with: openssl rand -hex 32)");
    }
    String token = adminToken.strip();
    return store.write(tx -> {
      if (!tx.findVertices(new VertexQuery(USERS, List.of(), VertexQuery.Order.KEY, null, null, 1)).isEmpty()) {
        return false;
      }
      Instant now = now();
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("server_admin", true);
      doc.put("disabled", false);
      doc.put("roles", Map.of());
      tx.insertVertex(new VertexDoc(new EntityId(USERS, "admin"), "admin", "", doc, now, now, "bootstrap"));
      insertToken(tx, "admin", "bootstrap administrator token", hash(token), now, "bootstrap");
      return true;
    });
  }

  /**
   * The caller a bearer token stands for.
   *
   * @throws UnauthenticatedException unknown or revoked token, or a disabled or deleted user
   */
  public Principal authenticate(String bearer) {
    String h = hash(bearer);
    return store.read(tx -> {
      VertexDoc t = tx.vertex(new EntityId(TOKENS, h)).orElse(null);
      if (t == null || Boolean.TRUE.equals(t.doc().get("revoked"))) {
        throw new UnauthenticatedException("the bearer token is not valid (unknown or revoked); ask an"
            + " administrator for a token (AdminService.CreateToken)");
      }
      User u = findUser(tx, String.valueOf(t.doc().get("user"))).orElse(null);
      if (u == null || u.disabled()) {
        throw new UnauthenticatedException("the token's user is disabled or gone");
      }
      return new Principal(u.name(), u.serverAdmin(), u.roles());
    });
  }

  private static java.util.Optional<User> findUser(ReadTx tx, String name) {
    if (!USER_NAME.matcher(name).matches()) {
      return java.util.Optional.empty();
    }
    return tx.vertex(new EntityId(USERS, name)).map(User::new);
  }

  private static User requireUser(ReadTx tx, String name, String field) {
    Validate.required(field, name);
    return findUser(tx, name).orElseThrow(() -> new NotFoundException("user " + name, field + ": no user is named \""
        + Validate.printable(name) + "\""));
  }

  /** Creates a user; an equal existing one is returned. */
  public User createUser(Principal who, String name, boolean serverAdmin) {
    Validate.required("name", name);
    if (!USER_NAME.matcher(name).matches()) {
      throw new InvalidArgumentException("name", "must be 1-64 characters of letters, digits and \"_.@-\","
          + " starting with a letter or digit");
    }
    who.requireServerAdmin("create users");
    return store.write(tx -> {
      java.util.Optional<User> existing = findUser(tx, name);
      if (existing.isPresent()) {
        if (existing.get().serverAdmin() == serverAdmin) {
          return existing.get();
        }
        throw new AlreadyExistsException(USERS + "/" + name, "name: user \"" + name + "\" already exists"
            + (existing.get().serverAdmin() ? " as a server administrator" : ""));
      }
      Instant now = now();
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("server_admin", serverAdmin);
      doc.put("disabled", false);
      doc.put("roles", Map.of());
      VertexDoc v = new VertexDoc(new EntityId(USERS, name), name, "", doc, now, now, who.name());
      tx.insertVertex(v);
      return new User(v);
    });
  }

  public Page<User> listUsers(Principal who, int pageSize, String pageToken) {
    who.requireServerAdmin("list users");
    int size = PageTokens.pageSize(pageSize);
    String hashQ = PageTokens.queryHash("users");
    PageTokens.Position pos = PageTokens.decode(pageToken, hashQ);
    List<VertexDoc> rows = store.read(tx -> tx.findVertices(new VertexQuery(USERS, List.of(), VertexQuery.Order.KEY,
        pos == null ? null : pos.after(), null, size + 1)));
    List<User> users = rows.stream().limit(size).map(User::new).toList();
    return new Page<>(users, rows.size() > size
        ? PageTokens.encode(hashQ, users.get(size - 1).doc().id().key(), null) : "");
  }

  public User setUserDisabled(Principal who, String name, boolean disabled) {
    who.requireServerAdmin("disable users");
    if (who.name().equals(name) && disabled) {
      throw new FailedPreconditionException("CANNOT_DISABLE_SELF", "name: you cannot disable yourself");
    }
    return store.write(tx -> {
      User u = requireUser(tx, name, "name");
      Map<String, Object> doc = new LinkedHashMap<>(u.doc().doc());
      doc.put("disabled", disabled);
      VertexDoc updated = u.doc().withDoc(doc, now());
      tx.replaceVertex(updated);
      return new User(updated);
    });
  }

  public NewToken createToken(Principal who, String user, String description) {
    String d = description == null ? "" : description;
    if (d.length() > 256) {
      throw new InvalidArgumentException("description", "must be at most 256 characters");
    }
    if (!who.serverAdmin() && !who.name().equals(user)) {
      who.requireServerAdmin("create tokens for other users");
    }
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    String secret = "apt_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    return store.write(tx -> {
      User u = requireUser(tx, user, "user");
      if (u.disabled()) {
        throw new FailedPreconditionException("USER_DISABLED", "user: \"" + user + "\" is disabled");
      }
      return new NewToken(insertToken(tx, user, d, hash(secret), now(), who.name()), secret);
    });
  }

  private Token insertToken(WriteTx tx, String user, String description, String hash, Instant now, String actor) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("token_id", keys.next());
    doc.put("user", user);
    doc.put("description", description);
    doc.put("revoked", false);
    VertexDoc v = new VertexDoc(new EntityId(TOKENS, hash), null, "", doc, now, now, actor);
    tx.insertVertex(v);
    return new Token(v);
  }

  public List<Token> listTokens(Principal who, String user) {
    if (!who.serverAdmin() && !who.name().equals(user)) {
      who.requireServerAdmin("list other users' tokens");
    }
    return store.read(tx -> {
      requireUser(tx, user, "user");
      return tokensOf(tx, user);
    });
  }

  private static List<Token> tokensOf(ReadTx tx, String user) {
    return tx.findVertices(new VertexQuery(TOKENS, List.of(new Condition(new Field.Doc(List.of("user")), user)),
        VertexQuery.Order.KEY, null, null, 10_000)).stream().map(Token::new)
        .sorted(java.util.Comparator.comparing(Token::tokenId)).toList();
  }

  public Token revokeToken(Principal who, String tokenId) {
    Validate.required("token_id", tokenId);
    return store.write(tx -> {
      List<VertexDoc> found = tx.findVertices(new VertexQuery(TOKENS,
          List.of(new Condition(new Field.Doc(List.of("token_id")), tokenId)), VertexQuery.Order.KEY, null, null, 1));
      if (found.isEmpty()) {
        throw new NotFoundException("token " + tokenId, "token_id: no token has id \"" + Validate.printable(tokenId)
            + "\"");
      }
      Token t = new Token(found.get(0));
      if (!who.serverAdmin() && !who.name().equals(t.user())) {
        who.requireServerAdmin("revoke other users' tokens");
      }
      Map<String, Object> doc = new LinkedHashMap<>(t.doc().doc());
      doc.put("revoked", true);
      VertexDoc updated = t.doc().withDoc(doc, now());
      tx.replaceVertex(updated);
      return new Token(updated);
    });
  }

  public User grantRole(Principal who, String user, String project, Principal.Role role) {
    Validate.required("project", project);
    if (role == null) {
      throw new InvalidArgumentException("role", "is required: VIEWER, EDITOR or ADMIN");
    }
    who.requireAdmin(project, "members");
    return setRole(who, user, project, role);
  }

  public User revokeRole(Principal who, String user, String project) {
    Validate.required("project", project);
    who.requireAdmin(project, "members");
    return setRole(who, user, project, null);
  }

  private User setRole(Principal who, String user, String project, Principal.Role role) {
    return store.write(tx -> {
      User u = requireUser(tx, user, "user");
      if (tx.findVertices(new VertexQuery(Schema.PROJECT, List.of(new Condition(new Field.Name(), project)),
          VertexQuery.Order.KEY, null, null, 1)).isEmpty()) {
        throw new NotFoundException("project/" + project, "project: no project is named \""
            + Validate.printable(project) + "\"");
      }
      Map<String, Object> roles = new TreeMap<>();
      u.roles().forEach((p, r) -> roles.put(p, r.name()));
      if (role == null) {
        if (roles.remove(project) == null) {
          throw new NotFoundException("role", "project: user \"" + user + "\" has no role on \"" + project + "\"");
        }
      } else {
        roles.put(project, role.name());
      }
      Map<String, Object> doc = new LinkedHashMap<>(u.doc().doc());
      doc.put("roles", roles);
      VertexDoc updated = u.doc().withDoc(doc, now());
      tx.replaceVertex(updated);
      return new User(updated);
    });
  }

  /** The caller as a user; when authentication is off, a synthetic "anonymous" administrator. */
  public User currentUser(Principal who) {
    return store.read(tx -> findUser(tx, who.name()).orElseGet(() -> {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("server_admin", who.serverAdmin());
      doc.put("disabled", false);
      Map<String, Object> roles = new TreeMap<>();
      who.roles().forEach((p, r) -> roles.put(p, r.name()));
      doc.put("roles", roles);
      Instant epoch = Instant.EPOCH;
      return new User(new VertexDoc(new EntityId(USERS, who.name()), who.name(), "", doc, epoch, epoch, "system"));
    }));
  }
}
