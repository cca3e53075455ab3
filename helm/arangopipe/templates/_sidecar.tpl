{{/*
The server as a Kubernetes native sidecar (Kubernetes 1.29+): an init container with
`restartPolicy: Always` that starts before the pod's containers, keeps running beside them, and is
stopped after them (so a Job completes when its training container exits).

It binds to 127.0.0.1 (no authentication needed on the pod's loopback), keeps its data folder in the
volume of `arangopipe.sidecarVolumes` (an emptyDir, or sidecar.existingClaim), and writes its port to
/tmp/arangopipe.port once serving: the startup probe waits for that file, so the training container
starts only when the server answers. (The kubelet's gRPC probes connect to the pod IP, which a
loopback-bound server does not listen on; hence the file.)

Use it from a chart that has this chart as a dependency (with `arangopipe.enabled: false` in its
values so that no standalone server is rendered), passing the dependency's scope:

  initContainers:
    {{- include "arangopipe.sidecar" .Subcharts.arangopipe | nindent 4 }}
  containers:
    - name: train
      env:
        - name: ARANGOPIPE_TARGET
          value: {{ include "arangopipe.sidecarTarget" .Subcharts.arangopipe }}
  volumes:
    {{- include "arangopipe.sidecarVolumes" .Subcharts.arangopipe | nindent 4 }}

Settings: the `sidecar.*` values, plus image.*, securityContext, server.javaOpts and server.logFormat.
*/}}
{{- define "arangopipe.sidecar" -}}
- name: {{ .Values.sidecar.name }}
  image: {{ include "arangopipe.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  restartPolicy: Always
  env:
    - name: ARANGOPIPE_BIND
      value: "127.0.0.1"
    - name: ARANGOPIPE_PORT
      value: {{ .Values.sidecar.port | int64 | quote }}
    - name: ARANGOPIPE_PORT_FILE
      value: /tmp/arangopipe.port
    - name: ARANGOPIPE_DATA_DIR
      value: /data
    - name: ARANGOPIPE_STORE
      value: sqlite
    - name: ARANGOPIPE_LOG_FORMAT
      value: {{ .Values.server.logFormat | quote }}
    - name: JAVA_TOOL_OPTIONS
      value: {{ include "arangopipe.javaToolOptions" . | quote }}
    {{- with .Values.sidecar.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  startupProbe:
    exec:
      command: ["cat", "/tmp/arangopipe.port"]
    periodSeconds: 2
    failureThreshold: 90
  {{- with .Values.sidecar.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: {{ .Values.sidecar.name }}-data
      mountPath: /data
    - name: {{ .Values.sidecar.name }}-tmp
      mountPath: /tmp
{{- end }}

{{/*
The sidecar's volumes: its data folder (emptyDir or sidecar.existingClaim) and its /tmp.
*/}}
{{- define "arangopipe.sidecarVolumes" -}}
- name: {{ .Values.sidecar.name }}-data
  {{- if .Values.sidecar.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.sidecar.existingClaim }}
  {{- else }}
  emptyDir:
    sizeLimit: {{ .Values.sidecar.sizeLimit }}
  {{- end }}
- name: {{ .Values.sidecar.name }}-tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{/* host:port the training container connects to (ARANGOPIPE_TARGET of the Python client). */}}
{{- define "arangopipe.sidecarTarget" -}}
{{- printf "127.0.0.1:%v" .Values.sidecar.port | quote }}
{{- end }}
