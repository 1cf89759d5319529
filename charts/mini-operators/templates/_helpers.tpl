{{/*
Names, labels and the checks every template shares.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "mini-operators.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every resource name: `<release>-<chart>`, or the release name when it holds the chart name. */}}
{{- define "mini-operators.fullname" -}}
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

{{/* The agent's name: `<fullname>-agent` (the suffix kept even when the prefix is truncated). */}}
{{- define "mini-operators.agentName" -}}
{{- printf "%s-agent" (include "mini-operators.fullname" . | trunc 57 | trimSuffix "-") }}
{{- end }}

{{- define "mini-operators.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The recommended labels (app.kubernetes.io/*) of every object. */}}
{{- define "mini-operators.labels" -}}
helm.sh/chart: {{ include "mini-operators.chart" . }}
app.kubernetes.io/name: {{ include "mini-operators.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mini-operators
{{- end }}

{{/* The operator pods' selector: never changes across upgrades (a Deployment's selector is immutable). */}}
{{- define "mini-operators.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mini-operators.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/* The agent pods' selector. */}}
{{- define "mini-operators.agentSelectorLabels" -}}
app.kubernetes.io/name: {{ include "mini-operators.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: policy-agent
{{- end }}

{{/* The operator's ServiceAccount: serviceAccount.name, else the full name (or `default` when none is created). */}}
{{- define "mini-operators.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mini-operators.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "mini-operators.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Combinations of values the schema cannot express, refused with a message that says what to change.
Included by the Deployment, so every install, upgrade, template and lint runs them.
*/}}
{{- define "mini-operators.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) }}
{{- fail (printf "replicas=%d needs leaderElection.enabled=true: two operators without a lease would both create the missing pods and both delete the surplus" (int .Values.replicas)) }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (le (int .Values.replicas) 1) }}
{{- fail "podDisruptionBudget.enabled=true needs replicas > 1: with one replica a PodDisruptionBudget of minAvailable 1 would block every node drain" }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (ge (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicas)) }}
{{- fail (printf "podDisruptionBudget.minAvailable=%d must be below replicas=%d, or no pod could ever be evicted" (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicas)) }}
{{- end }}
{{- if and .Values.metrics.enabled (eq (int .Values.metrics.port) 8081) }}
{{- fail "metrics.port=8081 collides with the liveness endpoint (/healthz on 8081): choose another port" }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled (not .Values.metrics.enabled) }}
{{- fail "serviceMonitor.enabled=true needs metrics.enabled=true: there is no metrics Service to scrape" }}
{{- end }}
{{- end }}
