{{/*
Expand the name of the chart.
*/}}
{{- define "arangopipe.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name (63 characters at most: some Kubernetes name fields are
limited to that). If the release name contains the chart name it is used as the full name.
*/}}
{{- define "arangopipe.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "arangopipe.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "arangopipe.labels" -}}
helm.sh/chart: {{ include "arangopipe.chart" . }}
{{ include "arangopipe.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: arangopipe
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "arangopipe.selectorLabels" -}}
app.kubernetes.io/name: {{ include "arangopipe.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Create the name of the service account to use
*/}}
{{- define "arangopipe.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "arangopipe.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The server image, by digest when one is given.
*/}}
{{- define "arangopipe.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/*
The server's --store value for the chart's store.mode.
*/}}
{{- define "arangopipe.storeKind" -}}
{{- if eq .Values.store.mode "embedded" }}sqlite{{ else }}arangodb{{ end }}
{{- end }}

{{/*
JAVA_TOOL_OPTIONS: temporary files on the /tmp emptyDir (the root filesystem is read-only), then the
user's options.
*/}}
{{- define "arangopipe.javaToolOptions" -}}
{{- trim (printf "-Djava.io.tmpdir=/tmp -Dorg.sqlite.tmpdir=/tmp %s" (.Values.server.javaOpts | default "")) }}
{{- end }}

{{/*
Label a client pod needs to pass the NetworkPolicy when networkPolicy.allowExternal is false.
*/}}
{{- define "arangopipe.clientLabel" -}}
{{ include "arangopipe.fullname" . }}-client
{{- end }}

{{/* ---------------------------------------------------------------- secrets */}}

{{/* Name of the Secret holding the administrator token ("" when auth is off). */}}
{{- define "arangopipe.auth.secretName" -}}
{{- if .Values.auth.enabled }}
{{- .Values.auth.existingSecret | default (printf "%s-auth" (include "arangopipe.fullname" .)) }}
{{- end }}
{{- end }}

{{/* Key of the administrator token in that Secret. */}}
{{- define "arangopipe.auth.secretKey" -}}
{{- if .Values.auth.existingSecret }}{{ .Values.auth.existingSecretKey }}{{ else }}admin-token{{ end }}
{{- end }}

{{/* True when the chart makes the administrator-token Secret itself. */}}
{{- define "arangopipe.auth.createSecret" -}}
{{- if and .Values.auth.enabled (not .Values.auth.existingSecret) (or .Values.auth.adminToken .Values.auth.generateAdminToken) }}true{{ end }}
{{- end }}

{{/* Name of the TLS Secret. */}}
{{- define "arangopipe.tls.secretName" -}}
{{- .Values.tls.existingSecret | default (printf "%s-tls" (include "arangopipe.fullname" .)) }}
{{- end }}

{{/* Name of the ArangoDeployment made for the kube-arangodb operator. */}}
{{- define "arangopipe.arangodb.deploymentName" -}}
{{- .Values.arangodb.operator.name | default (printf "%s-db" (include "arangopipe.fullname" .) | trunc 63 | trimSuffix "-") }}
{{- end }}

{{/* True when the server connects to an ArangoDeployment the chart makes. */}}
{{- define "arangopipe.arangodb.useOperator" -}}
{{- if and (eq .Values.store.mode "arangodb") .Values.arangodb.operator.enabled }}true{{ end }}
{{- end }}

{{/* ArangoDB endpoints, comma-separated. */}}
{{- define "arangopipe.arangodb.endpoints" -}}
{{- if .Values.arangodb.endpoints }}
{{- join "," .Values.arangodb.endpoints }}
{{- else if include "arangopipe.arangodb.useOperator" . }}
{{- printf "%s://%s.%s.svc:8529" (ternary "https" "http" .Values.arangodb.operator.tls) (include "arangopipe.arangodb.deploymentName" .) .Release.Namespace }}
{{- end }}
{{- end }}

{{/*
Secret with the ArangoDB password: existingSecret; else the chart's own when a password is given;
else, with the operator, the root-password Secret the operator creates at bootstrap.
*/}}
{{- define "arangopipe.arangodb.secretName" -}}
{{- if .Values.arangodb.existingSecret }}
{{- .Values.arangodb.existingSecret }}
{{- else if .Values.arangodb.password }}
{{- printf "%s-arangodb" (include "arangopipe.fullname" .) }}
{{- else if include "arangopipe.arangodb.useOperator" . }}
{{- printf "%s-root-password" (include "arangopipe.arangodb.deploymentName" .) }}
{{- end }}
{{- end }}

{{- define "arangopipe.arangodb.secretKey" -}}
{{- if .Values.arangodb.existingSecret }}{{ .Values.arangodb.existingSecretPasswordKey }}{{ else }}password{{ end }}
{{- end }}

{{/* Secret with the CA of the ArangoDB endpoints ("" when none is needed). */}}
{{- define "arangopipe.arangodb.caSecretName" -}}
{{- if .Values.arangodb.tls.existingSecret }}
{{- .Values.arangodb.tls.existingSecret }}
{{- else if .Values.arangodb.tls.caCert }}
{{- printf "%s-arangodb" (include "arangopipe.fullname" .) }}
{{- else if and (include "arangopipe.arangodb.useOperator" .) .Values.arangodb.operator.tls }}
{{- printf "%s-ca" (include "arangopipe.arangodb.deploymentName" .) }}
{{- end }}
{{- end }}

{{- define "arangopipe.arangodb.caSecretKey" -}}
{{- if .Values.arangodb.tls.existingSecret }}{{ .Values.arangodb.tls.existingSecretKey }}{{ else }}ca.crt{{ end }}
{{- end }}

{{/* True when the server's database is an ArangoDeployment in Cluster mode made by the chart. */}}
{{- define "arangopipe.arangodb.operatorCluster" -}}
{{- if and (include "arangopipe.arangodb.useOperator" .) (eq .Values.arangodb.operator.mode "Cluster") }}true{{ end }}
{{- end }}

{{/*
The layout of what the server creates. Empty values take the server's defaults (1, 1, false), except
with the operator in Cluster mode: replication factor min(3, DB-Servers), write concern one less (at
least 1: a write survives the loss of a DB-Server and writes go on while one is down), OneShard.
*/}}
{{- define "arangopipe.arangodb.replicationFactor" -}}
{{- $v := .Values.arangodb.replicationFactor }}
{{- if not (and (kindIs "string" $v) (eq $v "")) }}{{ int64 $v }}
{{- else if include "arangopipe.arangodb.operatorCluster" . }}{{ min 3 (int64 .Values.arangodb.operator.dbservers) }}
{{- else }}1{{ end }}
{{- end }}

{{- define "arangopipe.arangodb.writeConcern" -}}
{{- $v := .Values.arangodb.writeConcern }}
{{- if not (and (kindIs "string" $v) (eq $v "")) }}{{ int64 $v }}
{{- else if include "arangopipe.arangodb.operatorCluster" . }}{{ max 1 (sub (int64 (include "arangopipe.arangodb.replicationFactor" .)) 1) }}
{{- else }}1{{ end }}
{{- end }}

{{- define "arangopipe.arangodb.oneShard" -}}
{{- $v := .Values.arangodb.oneShard }}
{{- if kindIs "bool" $v }}{{ $v }}
{{- else }}{{ ternary "true" "false" (eq (include "arangopipe.arangodb.operatorCluster" .) "true") }}{{ end }}
{{- end }}

{{/* True when the chart makes the <fullname>-arangodb Secret (password and/or CA given inline). */}}
{{- define "arangopipe.arangodb.createSecret" -}}
{{- if and (eq .Values.store.mode "arangodb") (or (and .Values.arangodb.password (not .Values.arangodb.existingSecret)) (and .Values.arangodb.tls.caCert (not .Values.arangodb.tls.existingSecret))) }}true{{ end }}
{{- end }}

{{/* ---------------------------------------------------------------- checks */}}

{{/*
Rules between values. values.schema.json says the same where JSON Schema can; these checks also
hold with --skip-schema-validation and give one clear message each.
*/}}
{{- define "arangopipe.validate" -}}
{{- $mode := .Values.store.mode }}
{{- if not (has $mode (list "embedded" "arangodb")) }}
{{- fail (printf "store.mode must be \"embedded\" or \"arangodb\", not %q" (toString $mode)) }}
{{- end }}
{{- if and (eq $mode "embedded") (ne (int .Values.replicaCount) 1) }}
{{- fail (printf "replicaCount is %v, but the embedded store runs exactly one replica (the server locks its data folder); use store.mode=arangodb to scale out" .Values.replicaCount) }}
{{- end }}
{{- if and (eq $mode "embedded") .Values.autoscaling.enabled }}
{{- fail "autoscaling.enabled needs store.mode=arangodb: the embedded store runs exactly one replica" }}
{{- end }}
{{- if .Values.auth.enabled }}
{{- if not (or .Values.auth.adminToken .Values.auth.existingSecret .Values.auth.generateAdminToken) }}
{{- fail "\n\nAuthentication is on and no administrator token is set. The chart has no default credentials: give one of\n  --set auth.existingSecret=<secret>   (a Secret with the token under the key auth.existingSecretKey, default \"admin-token\")\n  --set auth.adminToken=$(openssl rand -hex 32)\n  --set auth.generateAdminToken=true   (the chart generates one; NOTES.txt shows how to read it)\nor, to serve WITHOUT authentication, --set auth.enabled=false --set auth.allowInsecureRemote=true.\n" }}
{{- end }}
{{- else if not .Values.auth.allowInsecureRemote }}
{{- fail "\n\nauth.enabled=false: the server refuses to listen beyond loopback without authentication. To serve without it anyway, also set auth.allowInsecureRemote=true (anyone who reaches the Service can then read and write everything).\n" }}
{{- end }}
{{- if .Values.tls.enabled }}
{{- if not (or .Values.tls.existingSecret (and .Values.tls.cert .Values.tls.key)) }}
{{- fail "tls.enabled needs tls.existingSecret, or both tls.cert and tls.key" }}
{{- end }}
{{- if and .Values.tls.mutual (not (or .Values.tls.existingSecret .Values.tls.clientCA)) }}
{{- fail "tls.mutual needs tls.clientCA, or tls.existingSecret with the CA under tls.clientCAKey" }}
{{- end }}
{{- end }}
{{- if eq $mode "arangodb" }}
{{- if not (include "arangopipe.arangodb.endpoints" .) }}
{{- fail "store.mode=arangodb needs arangodb.endpoints, or arangodb.operator.enabled=true to make an ArangoDeployment" }}
{{- end }}
{{- if and (include "arangopipe.arangodb.useOperator" .) (ne .Values.arangodb.user "root") }}
{{- fail "with arangodb.operator.enabled the server logs in as root (the operator sets root's password from the password Secret): set arangodb.user=root" }}
{{- end }}
{{- if not (include "arangopipe.arangodb.secretName" .) }}
{{- fail "store.mode=arangodb needs the database password: arangodb.existingSecret (preferred) or arangodb.password" }}
{{- end }}
{{- /* the rules the server checks at start, so that they fail at install instead of in a crash loop */}}
{{- $endpoints := splitList "," (include "arangopipe.arangodb.endpoints" .) }}
{{- $https := 0 }}
{{- range $endpoints }}{{ if hasPrefix "https://" . }}{{ $https = add1 $https }}{{ end }}{{ end }}
{{- if and (gt $https 0) (lt $https (len $endpoints)) }}
{{- fail (printf "arangodb.endpoints must all be http:// or all https:// (got %s)" (join ", " $endpoints)) }}
{{- end }}
{{- if and (eq $https 0) (include "arangopipe.arangodb.caSecretName" .) }}
{{- fail "arangodb.tls.caCert / arangodb.tls.existingSecret give a CA, but the ArangoDB endpoints are http://: use https:// endpoints (the server refuses a CA file with http://)" }}
{{- end }}
{{- $rf := int64 (include "arangopipe.arangodb.replicationFactor" .) }}
{{- $wc := int64 (include "arangopipe.arangodb.writeConcern" .) }}
{{- if gt $wc $rf }}
{{- fail (printf "arangodb.writeConcern (%d) must not exceed arangodb.replicationFactor (%d): a write cannot wait for more in-sync copies than there are" $wc $rf) }}
{{- end }}
{{- if and (include "arangopipe.arangodb.operatorCluster" .) (gt $rf (int64 .Values.arangodb.operator.dbservers)) }}
{{- fail (printf "arangodb.replicationFactor (%d) is more than arangodb.operator.dbservers (%v): ArangoDB keeps each copy on a different DB-Server" $rf .Values.arangodb.operator.dbservers) }}
{{- end }}
{{- if and (eq (include "arangopipe.arangodb.oneShard" .) "true") (gt (int64 .Values.arangodb.shards) 1) }}
{{- fail (printf "arangodb.oneShard puts every collection in one shard: arangodb.shards must be 1 (got %v)" .Values.arangodb.shards) }}
{{- end }}
{{- $mc := .Values.arangodb.maxConnections }}
{{- if and (eq (toString .Values.arangodb.protocol) "http1") (not (and (kindIs "string" $mc) (eq $mc ""))) (lt (int64 $mc) 3) }}
{{- fail (printf "arangodb.maxConnections must be at least 3 with arangodb.protocol=http1 (got %v)" $mc) }}
{{- end }}
{{- end }}
{{- end }}

{{/* ---------------------------------------------------------------- probes */}}

{{/*
One probe: native gRPC on the numeric port (plaintext), TCP on the same port when TLS is on (the
kubelet's gRPC probe does not speak TLS). Call with (dict "root" $ "probe" .Values.livenessProbe
"service" NAME). The server's health service names:
  ""          SERVING while the store answers; with ArangoDB, NOT_SERVING while it is unreachable
              (readiness: the pod leaves the Service during a database outage)
  "liveness"  SERVING from start until shutdown, whatever the store does (startup and liveness: a
              database outage does not restart the pods)
*/}}
{{- define "arangopipe.probe" -}}
{{- $root := .root }}
{{- if $root.Values.tls.enabled }}
tcpSocket:
  port: {{ int $root.Values.server.port }}
{{- else }}
grpc:
  port: {{ int $root.Values.server.port }}
  service: {{ .service | quote }}
{{- end }}
initialDelaySeconds: {{ .probe.initialDelaySeconds }}
periodSeconds: {{ .probe.periodSeconds }}
timeoutSeconds: {{ .probe.timeoutSeconds }}
failureThreshold: {{ .probe.failureThreshold }}
successThreshold: {{ .probe.successThreshold }}
{{- end }}
