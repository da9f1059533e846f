{{/*
`smart-embedder download` before the server starts (values: modelDownload.*), as a
pre-install/pre-upgrade hook Job (download-job.yaml) or as an init container of each
server pod ("smart-embedder.downloadInitContainers", included by deployment.yaml).
The container sees the same model settings and cache as the server, so it fills
exactly the cache the server will read.
*/}}

{{/* The server's model settings, as environment variables (HF_HUB_OFFLINE aside). */}}
{{- define "smart-embedder.modelEnv" -}}
- name: MODEL_CACHE_DIR
  value: {{ .Values.modelCache.mountPath | quote }}
- name: HF_HOME
  value: /tmp/huggingface
- name: XDG_CACHE_HOME
  value: /tmp/.cache
{{- with .Values.models.preset }}
- name: PRESET
  value: {{ . | quote }}
{{- end }}
{{- with .Values.models.bgeM3 }}
- name: BGE_M3_MODEL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.models.dense }}
- name: DENSE_EMBEDDING_MODEL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.models.sparse }}
- name: SPARSE_EMBEDDING_MODEL
  value: {{ . | quote }}
{{- end }}
{{- if not .Values.models.rerankEnabled }}
- name: RERANKER_MODEL
  value: ""
{{- else if .Values.models.reranker }}
- name: RERANKER_MODEL
  value: {{ .Values.models.reranker | quote }}
{{- end }}
{{- with .Values.models.revision }}
- name: MODEL_REVISION
  value: {{ . | quote }}
{{- end }}
{{- if include "smart-embedder.hubTokenEnabled" . }}
- name: HF_TOKEN_PATH
  value: {{ include "smart-embedder.hubTokenFile" . | quote }}
{{- end }}
{{- end }}

{{/* The download container; it mounts the pod's "tmp" and "models" volumes, and
"hub-token" when there is a hub token. */}}
{{- define "smart-embedder.downloadContainer" -}}
- name: model-download
  image: {{ include "smart-embedder.image" . | quote }}
  imagePullPolicy: {{ include "smart-embedder.pullPolicy" . }}
  args: ["download", "--verify", {{ .Values.modelDownload.verify | quote }}]
  env:
    {{- include "smart-embedder.modelEnv" . | nindent 4 }}
    {{- /* models.offline keeps the server off the hub; downloading is this container's job,
    except from a read-only pre-filled volume, which it can only check. */}}
    {{- if eq .Values.modelCache.type "prefilled" }}
    - name: HF_HUB_OFFLINE
      value: "1"
    {{- end }}
    {{- /* The server's extra settings too: a proxy (HTTPS_PROXY) applies to the download. */}}
    {{- range $name, $value := .Values.env }}
    - name: {{ $name }}
      value: {{ $value | toString | quote }}
    {{- end }}
  resources:
    {{- toYaml (default (include "smart-embedder.resources" . | fromYaml) .Values.modelDownload.resources) | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    - name: models
      mountPath: {{ .Values.modelCache.mountPath }}
      {{- if eq .Values.modelCache.type "prefilled" }}
      readOnly: true
      {{- with .Values.modelCache.prefilled.subPath }}
      subPath: {{ . }}
      {{- end }}
      {{- end }}
    {{- if include "smart-embedder.hubTokenEnabled" . }}
    - name: hub-token
      mountPath: {{ include "smart-embedder.hubTokenDir" . }}
      readOnly: true
    {{- end }}
{{- end }}

{{/*
Init containers of the server pod: the download container when
modelDownload.mode=initContainer, else nothing. deployment.yaml renders:
  {{- with include "smart-embedder.downloadInitContainers" . }}
  initContainers:
    {{- . | nindent 8 }}
  {{- end }}
*/}}
{{- define "smart-embedder.downloadInitContainers" -}}
{{- if eq .Values.modelDownload.mode "initContainer" }}
{{- include "smart-embedder.downloadContainer" . }}
{{- end }}
{{- end }}

{{/* Value combinations a download mode cannot work with. */}}
{{- define "smart-embedder.validateDownload" -}}
{{- if eq .Values.modelDownload.mode "job" }}
{{- if not (and (eq .Values.modelCache.type "persistentVolumeClaim") .Values.modelCache.persistentVolumeClaim.existingClaim) }}
{{- fail "modelDownload.mode=job needs modelCache.type=persistentVolumeClaim with modelCache.persistentVolumeClaim.existingClaim: the hook Job runs before the chart creates its own objects" }}
{{- end }}
{{- if .Values.hubToken.value }}
{{- fail "modelDownload.mode=job runs before the chart's Secret exists: give the hub token as hubToken.existingSecret" }}
{{- end }}
{{- end }}
{{- end }}
