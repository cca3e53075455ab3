package io.arangopipe.server.api;

import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;
import com.google.protobuf.util.Timestamps;
import io.arangopipe.server.core.MetadataCore;
import io.arangopipe.server.core.Views;
import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.InvalidArgumentException;
import io.arangopipe.server.store.Json;
import io.arangopipe.server.store.VertexDoc;
import io.arangopipe.v1.Deployment;
import io.arangopipe.v1.DeploymentStatus;
import io.arangopipe.v1.Edge;
import io.arangopipe.v1.Entity;
import io.arangopipe.v1.EntityType;
import io.arangopipe.v1.Project;
import io.arangopipe.v1.Run;
import io.arangopipe.v1.RunStatus;
import io.arangopipe.v1.TypeKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Translation between the wire messages and the core's plain Java values. No logic beyond that. */
final class Protos {
  private Protos() {}

  // ---- documents ---------------------------------------------------------------------------------

  /** A Struct as a normalized document; {@code field} names it in errors. */
  static Map<String, Object> toMap(String field, Struct s) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, Value> e : s.getFieldsMap().entrySet()) {
      out.put(e.getKey(), toJava(field + "." + e.getKey(), e.getValue(), 1));
    }
    return out;
  }

  static Object toJava(String field, Value v, int depth) {
    if (depth > 100) {
      throw new InvalidArgumentException(field, "is nested too deeply");
    }
    switch (v.getKindCase()) {
      case NULL_VALUE:
      case KIND_NOT_SET:
        return null;
      case BOOL_VALUE:
        return v.getBoolValue();
      case STRING_VALUE:
        return v.getStringValue();
      case NUMBER_VALUE:
        double d = v.getNumberValue();
        if (Double.isNaN(d) || Double.isInfinite(d)) {
          throw new InvalidArgumentException(field, "must be a finite number (NaN and infinity are not JSON)");
        }
        return Json.normalize(d);
      case STRUCT_VALUE: {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Map.Entry<String, Value> e : v.getStructValue().getFieldsMap().entrySet()) {
          m.put(e.getKey(), toJava(field + "." + e.getKey(), e.getValue(), depth + 1));
        }
        return m;
      }
      case LIST_VALUE: {
        List<Object> l = new ArrayList<>();
        List<Value> values = v.getListValue().getValuesList();
        for (int i = 0; i < values.size(); i++) {
          l.add(toJava(field + "[" + i + "]", values.get(i), depth + 1));
        }
        return l;
      }
      default:
        throw new InvalidArgumentException(field, "has an unknown value kind");
    }
  }

  static Struct toStruct(Map<String, Object> doc) {
    Struct.Builder b = Struct.newBuilder();
    for (Map.Entry<String, Object> e : doc.entrySet()) {
      b.putFields(e.getKey(), toValue(e.getValue()));
    }
    return b.build();
  }

  static Value toValue(Object v) {
    if (v == null) {
      return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
    }
    if (v instanceof Boolean b) {
      return Value.newBuilder().setBoolValue(b).build();
    }
    if (v instanceof Number n) {
      return Value.newBuilder().setNumberValue(n.doubleValue()).build();
    }
    if (v instanceof String s) {
      return Value.newBuilder().setStringValue(s).build();
    }
    if (v instanceof Map<?, ?> m) {
      Struct.Builder b = Struct.newBuilder();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        b.putFields(String.valueOf(e.getKey()), toValue(e.getValue()));
      }
      return Value.newBuilder().setStructValue(b).build();
    }
    if (v instanceof List<?> l) {
      ListValue.Builder b = ListValue.newBuilder();
      for (Object o : l) {
        b.addValues(toValue(o));
      }
      return Value.newBuilder().setListValue(b).build();
    }
    return Value.newBuilder().setStringValue(String.valueOf(v)).build();
  }

  // ---- times -------------------------------------------------------------------------------------

  static Timestamp toTimestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  /** {@code null} when unset. */
  static Instant toInstant(String field, boolean present, Timestamp t) {
    if (!present) {
      return null;
    }
    if (!Timestamps.isValid(t)) {
      throw new InvalidArgumentException(field, "is not a valid timestamp (years 0001-9999, nanos 0-999999999)");
    }
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  // ---- resources ---------------------------------------------------------------------------------

  static Entity entity(VertexDoc v) {
    Entity.Builder b = Entity.newBuilder()
        .setId(v.id().toString())
        .setCollection(v.id().collection())
        .setKey(v.id().key())
        .setProject(v.project())
        .setDocument(toStruct(v.doc()))
        .setCreateTime(toTimestamp(v.createTime()))
        .setUpdateTime(toTimestamp(v.updateTime()))
        .setCreator(v.creator());
    if (v.name() != null) {
      b.setName(v.name());
    }
    return b.build();
  }

  static Edge edge(EdgeDoc e) {
    return Edge.newBuilder()
        .setId(e.id().toString())
        .setCollection(e.id().collection())
        .setKey(e.id().key())
        .setFromId(e.from().toString())
        .setToId(e.to().toString())
        .setDocument(toStruct(e.doc()))
        .setCreateTime(toTimestamp(e.createTime()))
        .setCreator(e.creator())
        .build();
  }

  static Project project(VertexDoc v) {
    return Project.newBuilder()
        .setId(v.id().toString())
        .setName(v.name())
        .setProperties(toStruct(v.doc()))
        .setCreateTime(toTimestamp(v.createTime()))
        .setCreator(v.creator())
        .build();
  }

  static Run run(Views.RunView r) {
    Map<String, Object> doc = r.run().doc();
    Map<String, Object> props = new LinkedHashMap<>(doc);
    props.keySet().removeAll(MetadataCore.RUN_FIELDS);
    Run.Builder b = Run.newBuilder()
        .setId(r.run().id().toString())
        .setRunId(r.run().id().key())
        .setProject(r.run().project())
        .setTag(str(doc.get("tag")))
        .setDeploymentTag(str(doc.get("deployment_tag")))
        .setStatus(runStatus(str(doc.get("status"))))
        .setProperties(toStruct(props))
        .setCreateTime(toTimestamp(r.run().createTime()))
        .setCreator(r.run().creator());
    Instant start = MetadataCore.parseTime(doc.get("start_time"));
    if (start != null) {
      b.setStartTime(toTimestamp(start));
    }
    Instant end = MetadataCore.parseTime(doc.get("end_time"));
    if (end != null) {
      b.setEndTime(toTimestamp(end));
    }
    b.setModelId(id(r.model()))
        .setDatasetId(id(r.dataset()))
        .setFeaturesetId(id(r.featureset()))
        .setModelParamsId(r.modelParams() == null ? "" : r.modelParams().id().toString())
        .setDevPerfId(r.devPerf() == null ? "" : r.devPerf().id().toString());
    return b.build();
  }

  static io.arangopipe.v1.RunRecord runRecord(io.arangopipe.server.query.RunRow r) {
    io.arangopipe.v1.RunRecord.Builder b = io.arangopipe.v1.RunRecord.newBuilder().setRun(run(new Views.RunView(
        r.run(), r.modelParams(), r.devPerf(), r.model() == null ? null : r.model().id(),
        r.dataset() == null ? null : r.dataset().id(), r.featureset() == null ? null : r.featureset().id())));
    if (r.modelParams() != null) {
      b.setModelParams(entity(r.modelParams()));
    }
    if (r.devPerf() != null) {
      b.setDevPerf(entity(r.devPerf()));
    }
    if (r.dataset() != null) {
      b.setDataset(entity(r.dataset()));
    }
    if (r.featureset() != null) {
      b.setFeatureset(entity(r.featureset()));
    }
    if (r.model() != null) {
      b.setModel(entity(r.model()));
    }
    return b.build();
  }

  /** An entity with only its identity: id, collection, key, name, project. */
  static Entity entityId(VertexDoc v) {
    Entity.Builder b = Entity.newBuilder().setId(v.id().toString()).setCollection(v.id().collection())
        .setKey(v.id().key()).setProject(v.project());
    if (v.name() != null) {
      b.setName(v.name());
    }
    return b.build();
  }

  static Deployment deployment(Views.DeploymentView d) {
    VertexDoc v = d.deployment();
    Map<String, Object> props = new LinkedHashMap<>(v.doc());
    props.keySet().removeAll(MetadataCore.DEPLOYMENT_FIELDS);
    return Deployment.newBuilder()
        .setId(v.id().toString())
        .setTag(v.name())
        .setProject(v.project())
        .setStatus(deploymentStatus(str(v.doc().get("status"))))
        .setRunId(v.doc().get("run_id") == null ? "" : new EntityId("run", str(v.doc().get("run_id"))).toString())
        .setModelId(id(d.model()))
        .setModelParamsId(id(d.modelParams()))
        .setFeaturesetId(id(d.featureset()))
        .setProperties(toStruct(props))
        .setCreateTime(toTimestamp(v.createTime()))
        .setUpdateTime(toTimestamp(v.updateTime()))
        .setCreator(v.creator())
        .build();
  }

  static io.arangopipe.v1.User user(io.arangopipe.server.core.Accounts.User u) {
    io.arangopipe.v1.User.Builder b = io.arangopipe.v1.User.newBuilder().setName(u.name())
        .setServerAdmin(u.serverAdmin()).setDisabled(u.disabled())
        .setCreateTime(toTimestamp(u.doc().createTime())).setCreator(u.doc().creator());
    u.roles().forEach((p, r) -> b.addRoles(io.arangopipe.v1.ProjectRole.newBuilder().setProject(p)
        .setRole(io.arangopipe.v1.Role.valueOf("ROLE_" + r.name()))));
    return b.build();
  }

  static io.arangopipe.v1.Token token(io.arangopipe.server.core.Accounts.Token t) {
    return io.arangopipe.v1.Token.newBuilder().setTokenId(t.tokenId()).setUser(t.user())
        .setDescription(t.description()).setCreateTime(toTimestamp(t.doc().createTime()))
        .setRevoked(t.revoked()).build();
  }

  static io.arangopipe.server.core.Principal.Role role(io.arangopipe.v1.Role r) {
    switch (r) {
      case ROLE_VIEWER:
        return io.arangopipe.server.core.Principal.Role.VIEWER;
      case ROLE_EDITOR:
        return io.arangopipe.server.core.Principal.Role.EDITOR;
      case ROLE_ADMIN:
        return io.arangopipe.server.core.Principal.Role.ADMIN;
      default:
        return null;
    }
  }

  static EntityType type(Views.TypeInfo t) {
    CollectionDef d = t.def();
    return EntityType.newBuilder()
        .setName(d.name())
        .setKind(d.isEdge() ? TypeKind.TYPE_KIND_EDGE : TypeKind.TYPE_KIND_VERTEX)
        .setBuiltin(d.builtin())
        .addAllFromTypes(d.fromTypes())
        .addAllToTypes(d.toTypes())
        .setDocumentCount(t.documentCount())
        .build();
  }

  // ---- enums -------------------------------------------------------------------------------------

  static Views.RunStatus runStatus(RunStatus s) {
    switch (s) {
      case RUN_STATUS_UNSPECIFIED:
        return null;
      case RUN_STATUS_RUNNING:
        return Views.RunStatus.RUNNING;
      case RUN_STATUS_COMPLETED:
        return Views.RunStatus.COMPLETED;
      case RUN_STATUS_FAILED:
        return Views.RunStatus.FAILED;
      case RUN_STATUS_CANCELLED:
        return Views.RunStatus.CANCELLED;
      default:
        throw new InvalidArgumentException("status", "is not a known run status");
    }
  }

  static RunStatus runStatus(String stored) {
    try {
      return RunStatus.valueOf("RUN_STATUS_" + stored);
    } catch (IllegalArgumentException e) {
      return RunStatus.RUN_STATUS_UNSPECIFIED;
    }
  }

  static Views.DeploymentStatus deploymentStatus(String field, DeploymentStatus s) {
    switch (s) {
      case DEPLOYMENT_STATUS_UNSPECIFIED:
        return null;
      case DEPLOYMENT_STATUS_SCHEDULED:
        return Views.DeploymentStatus.SCHEDULED;
      case DEPLOYMENT_STATUS_ACTIVE:
        return Views.DeploymentStatus.ACTIVE;
      case DEPLOYMENT_STATUS_ARCHIVED:
        return Views.DeploymentStatus.ARCHIVED;
      default:
        throw new InvalidArgumentException(field, "is not a known deployment status");
    }
  }

  static DeploymentStatus deploymentStatus(String stored) {
    try {
      return DeploymentStatus.valueOf("DEPLOYMENT_STATUS_" + stored);
    } catch (IllegalArgumentException e) {
      return DeploymentStatus.DEPLOYMENT_STATUS_UNSPECIFIED;
    }
  }

  static Views.Direction direction(io.arangopipe.v1.LineageDirection d) {
    switch (d) {
      case LINEAGE_DIRECTION_UPSTREAM:
        return Views.Direction.UPSTREAM;
      case LINEAGE_DIRECTION_DOWNSTREAM:
        return Views.Direction.DOWNSTREAM;
      case LINEAGE_DIRECTION_UNSPECIFIED:
      case LINEAGE_DIRECTION_BOTH:
        return Views.Direction.BOTH;
      default:
        throw new InvalidArgumentException("direction", "is not a known direction");
    }
  }

  private static String id(EntityId id) {
    return id == null ? "" : id.toString();
  }

  private static String str(Object o) {
    return o == null ? "" : String.valueOf(o);
  }
}
