package io.arangopipe.server.core;

import io.arangopipe.server.store.PermissionDeniedException;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who is calling and what they may do. Projects are the unit of authorisation: a role on a project
 * covers every entity whose project it is. Entities without a project ("global": datasets and
 * featuresets registered without one, as the seed library did) can be read by every user and written by
 * anyone who is an editor somewhere.
 *
 * @param name the user's name, recorded as the creator of what they write
 * @param serverAdmin may do everything
 * @param roles role per project name
 */
public record Principal(String name, boolean serverAdmin, Map<String, Role> roles) {

  /** Roles on a project; each includes the ones before it. */
  public enum Role {
    VIEWER,
    EDITOR,
    ADMIN
  }

  public Principal {
    roles = Map.copyOf(roles);
  }

  /** The caller when authentication is off: may do everything. */
  public static final Principal ANONYMOUS = new Principal("anonymous", true, Map.of());

  private boolean has(String project, Role atLeast) {
    Role r = roles.get(project);
    return r != null && r.compareTo(atLeast) >= 0;
  }

  public boolean canRead(String project) {
    return serverAdmin || project.isEmpty() || roles.containsKey(project);
  }

  public boolean canWrite(String project) {
    if (serverAdmin) {
      return true;
    }
    if (project.isEmpty()) {
      return roles.values().stream().anyMatch(r -> r.compareTo(Role.EDITOR) >= 0);
    }
    return has(project, Role.EDITOR);
  }

  public boolean canAdmin(String project) {
    return serverAdmin || (!project.isEmpty() && has(project, Role.ADMIN));
  }

  /** The projects whose entities this caller may read, besides global ones; null means all. */
  public Set<String> readableProjects() {
    return serverAdmin ? null : new TreeSet<>(roles.keySet());
  }

  public void requireRead(String project, String what) {
    if (!canRead(project)) {
      throw denied("read", project, what, "VIEWER");
    }
  }

  public void requireWrite(String project, String what) {
    if (!canWrite(project)) {
      if (project.isEmpty()) {
        throw new PermissionDeniedException("user \"" + name + "\" may not write " + what
            + ": writing entities without a project needs the EDITOR role on some project");
      }
      throw denied("write", project, what, "EDITOR");
    }
  }

  public void requireAdmin(String project, String what) {
    if (!canAdmin(project)) {
      if (project.isEmpty()) {
        requireServerAdmin(what);
      }
      throw denied("manage", project, what, "ADMIN");
    }
  }

  public void requireServerAdmin(String what) {
    if (!serverAdmin) {
      throw new PermissionDeniedException("user \"" + name + "\" may not " + what
          + ": that needs a server administrator");
    }
  }

  private PermissionDeniedException denied(String verb, String project, String what, String role) {
    return new PermissionDeniedException("user \"" + name + "\" may not " + verb + " " + what + " in project \""
        + project + "\": that needs the " + role + " role there"
        + (roles.containsKey(project) ? " (the user is " + roles.get(project) + ")" : ""));
  }
}
