{{/*
Chart name, truncated to 63 characters (the DNS label limit).
*/}}
{{- define "smart-embedder.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: release-chart, or the release name alone when it already contains the
chart name. Truncated to 63 characters.
*/}}
{{- define "smart-embedder.fullname" -}}
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

{{- define "smart-embedder.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: the Deployment selector is immutable, so these never change
between releases and never include versions.
*/}}
{{- define "smart-embedder.selectorLabels" -}}
app.kubernetes.io/name: {{ include "smart-embedder.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common labels for every object.
*/}}
{{- define "smart-embedder.labels" -}}
helm.sh/chart: {{ include "smart-embedder.chart" . }}
{{ include "smart-embedder.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: smart-embedder
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "smart-embedder.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "smart-embedder.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference: digest wins over tag; the default tag is <appVersion>-cpu or
<appVersion>-gpu.
*/}}
{{- define "smart-embedder.image" -}}
{{- $flavor := ternary "gpu" "cpu" .Values.gpu.enabled }}
{{- $tag := default (printf "%s-%s" .Chart.AppVersion $flavor) .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
Pull policy: the value when set; else IfNotPresent for an image by digest (it cannot
change) and Always for one by tag (a tag can be moved to another image).
*/}}
{{- define "smart-embedder.pullPolicy" -}}
{{- if .Values.image.pullPolicy }}
{{- .Values.image.pullPolicy }}
{{- else }}
{{- ternary "IfNotPresent" "Always" (ne .Values.image.digest "") }}
{{- end }}
{{- end }}

{{/*
Does any pod of the release fetch models from the hub? Not from a pre-filled cache, nor
offline (unless a download container fills the cache), nor with the offline preset's
models alone (they are inside the image).
*/}}
{{- define "smart-embedder.downloadsModels" -}}
{{- $m := .Values.models }}
{{- $presetOnly := and (eq $m.preset "offline") (not (or $m.bgeM3 $m.dense $m.sparse $m.reranker)) }}
{{- if ne .Values.modelCache.type "prefilled" }}
{{- if or .Values.modelDownload.mode (not (or $m.offline $presetOnly)) }}true{{ end }}
{{- end }}
{{- end }}

{{/*
Scanner findings the chart accepts, as checkov's inline annotations (checkov.io/skipN:
"CHECK_ID=reason") on the object they concern, so the reason travels with the manifest.
Each helper gives one "CHECK_ID=reason" per line, only while it applies; a reason holds no
"=". "smart-embedder.checkovAnnotations" turns the lines into annotations.
*/}}
{{/* Takes (list resources reason): the reason applies while resources set no CPU limit. */}}
{{- define "smart-embedder.checkovSkipCpuLimit" -}}
{{- if not (dig "limits" "cpu" "" (index . 0)) }}
CKV_K8S_11={{ index . 1 }}
{{- end }}
{{- end }}

{{- define "smart-embedder.checkovSkipDigest" -}}
{{- if not .Values.image.digest }}
CKV_K8S_43=image by tag as image.digest is unset: the chart cannot know the digest of the image you build and push; set image.digest in production (values.yaml)
{{- end }}
{{- end }}

{{- define "smart-embedder.checkovAnnotations" -}}
{{- $lines := list }}
{{- range splitList "\n" . }}
{{- with trim . }}
{{- $lines = append $lines (printf "checkov.io/skip%d: %s" (add1 (len $lines)) (quote .)) }}
{{- end }}
{{- end }}
{{- join "\n" $lines }}
{{- end }}

{{- define "smart-embedder.device" -}}
{{- if .Values.device }}
{{- .Values.device }}
{{- else }}
{{- ternary "cuda" "cpu" .Values.gpu.enabled }}
{{- end }}
{{- end }}

{{/*
Secret names: an existing Secret when given, else the chart's own.
*/}}
{{- define "smart-embedder.secretName" -}}
{{- include "smart-embedder.fullname" . }}
{{- end }}

{{- define "smart-embedder.apiTokenEnabled" -}}
{{- if or .Values.auth.existingSecret .Values.auth.apiToken }}true{{ end }}
{{- end }}

{{- define "smart-embedder.apiTokenSecret" -}}
{{- default (include "smart-embedder.secretName" .) .Values.auth.existingSecret }}
{{- end }}

{{- define "smart-embedder.apiTokenKey" -}}
{{- ternary .Values.auth.existingSecretKey "api-token" (ne .Values.auth.existingSecret "") }}
{{- end }}

{{/*
Tokens reach the containers as files of a read-only Secret volume, never as environment
variables (those show in crash dumps, /proc/<pid>/environ and child processes). Only the
one key is projected, so a Secret holding both tokens gives each mount its own.
*/}}
{{- define "smart-embedder.apiTokenDir" -}}/etc/smart-embedder/api-token{{- end }}
{{- define "smart-embedder.apiTokenFile" -}}{{ include "smart-embedder.apiTokenDir" . }}/token{{- end }}
{{- define "smart-embedder.hubTokenDir" -}}/etc/smart-embedder/hub-token{{- end }}
{{- define "smart-embedder.hubTokenFile" -}}{{ include "smart-embedder.hubTokenDir" . }}/token{{- end }}

{{- define "smart-embedder.apiTokenVolume" -}}
- name: api-token
  secret:
    secretName: {{ include "smart-embedder.apiTokenSecret" . }}
    items:
      - key: {{ include "smart-embedder.apiTokenKey" . }}
        path: token
{{- end }}

{{- define "smart-embedder.hubTokenVolume" -}}
- name: hub-token
  secret:
    secretName: {{ include "smart-embedder.hubTokenSecret" . }}
    items:
      - key: {{ include "smart-embedder.hubTokenKey" . }}
        path: token
{{- end }}

{{- define "smart-embedder.apiKeysFile" -}}
{{- with .Values.auth.apiKeys.existingSecret }}{{ trimSuffix "/" $.Values.auth.apiKeys.mountPath }}/{{ $.Values.auth.apiKeys.secretKey }}{{ end }}
{{- end }}

{{- define "smart-embedder.hubTokenEnabled" -}}
{{- if or .Values.hubToken.existingSecret .Values.hubToken.value }}true{{ end }}
{{- end }}

{{- define "smart-embedder.hubTokenSecret" -}}
{{- default (include "smart-embedder.secretName" .) .Values.hubToken.existingSecret }}
{{- end }}

{{- define "smart-embedder.hubTokenKey" -}}
{{- ternary .Values.hubToken.existingSecretKey "hf-token" (ne .Values.hubToken.existingSecret "") }}
{{- end }}

{{/*
Does the release load a reranker? The offline preset ships none.
*/}}
{{- define "smart-embedder.rerankEnabled" -}}
{{- if and .Values.models.rerankEnabled (or .Values.models.reranker (ne .Values.models.preset "offline")) }}true{{ end }}
{{- end }}

{{- define "smart-embedder.pvcName" -}}
{{- default (printf "%s-models" (include "smart-embedder.fullname" .)) .Values.modelCache.persistentVolumeClaim.existingClaim }}
{{- end }}

{{/*
Grace period: explicit, or drain + preStop sleep + 10 s of margin. A value below
drain + sleep would kill requests that the server promised to finish.
*/}}
{{- define "smart-embedder.terminationGracePeriodSeconds" -}}
{{- $needed := add .Values.shutdown.drainSeconds .Values.shutdown.preStopSleepSeconds }}
{{- $grace := .Values.shutdown.terminationGracePeriodSeconds }}
{{- if kindIs "invalid" $grace }}
{{- add $needed 10 }}
{{- else if lt (int $grace) (int $needed) }}
{{- fail (printf "shutdown.terminationGracePeriodSeconds (%d) must be >= shutdown.drainSeconds + shutdown.preStopSleepSeconds (%d)" (int $grace) (int $needed)) }}
{{- else }}
{{- int $grace }}
{{- end }}
{{- end }}

{{/*
Cross-value checks that a JSON schema cannot express.
*/}}
{{- define "smart-embedder.validate" -}}
{{- if and .Values.autoscaling.enabled .Values.keda.enabled }}
{{- fail "autoscaling.enabled and keda.enabled are exclusive: KEDA makes its own HPA" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must be <= autoscaling.maxReplicas" }}
{{- end }}
{{- if and .Values.keda.enabled (gt (int .Values.keda.minReplicaCount) (int .Values.keda.maxReplicaCount)) }}
{{- fail "keda.minReplicaCount must be <= keda.maxReplicaCount" }}
{{- end }}
{{- if and (eq .Values.modelCache.type "prefilled") (empty .Values.modelCache.prefilled.volume) }}
{{- fail "modelCache.type=prefilled needs modelCache.prefilled.volume (a volume source holding the models)" }}
{{- end }}
{{- if and .Values.auth.apiToken .Values.auth.existingSecret }}
{{- fail "set auth.apiToken or auth.existingSecret, not both" }}
{{- end }}
{{- if and .Values.auth.apiKeys.helmTestKey (not .Values.auth.apiKeys.existingSecret) }}
{{- fail "auth.apiKeys.helmTestKey needs auth.apiKeys.existingSecret" }}
{{- end }}
{{- if and .Values.hubToken.value .Values.hubToken.existingSecret }}
{{- fail "set hubToken.value or hubToken.existingSecret, not both" }}
{{- end }}
{{- end }}

{{/*
The server's resources: .Values.resources, with the memory request and limit of the model
preset (memoryByPreset; "" is "default") where resources leaves them out.
*/}}
{{- define "smart-embedder.resources" -}}
{{- $resources := deepCopy (default dict .Values.resources) -}}
{{- $memory := default dict (get .Values.memoryByPreset (default "default" .Values.models.preset)) -}}
{{- $requests := default dict $resources.requests -}}
{{- $limits := default dict $resources.limits -}}
{{- if and $memory.request (not (hasKey $requests "memory")) -}}
{{- $_ := set $requests "memory" $memory.request -}}
{{- end -}}
{{- if and $memory.limit (not (hasKey $limits "memory")) -}}
{{- $_ := set $limits "memory" $memory.limit -}}
{{- end -}}
{{- $_ := set $resources "requests" $requests -}}
{{- $_ := set $resources "limits" $limits -}}
{{- toYaml $resources -}}
{{- end -}}
