{{/*
Names. Objects in the release's namespace keep sluice's fixed names (the webhook reaches its Service and
knows its identity by them); cluster-scoped RBAC is named after the release, so that a release never
takes over another install's ClusterRole. The webhook configurations are always named sluice: the
running webhook updates them by that name.
*/}}
{{- define "sluice.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Helm's labels, then commonLabels: on every object. */}}
{{- define "sluice.helmLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of identity, RBAC and the load tester, as in manifests/: `name` is the app.kubernetes.io/name. */}}
{{- define "sluice.labels" -}}
app.kubernetes.io/name: {{ .name }}
{{- if ne .name "sluice" }}
app.kubernetes.io/part-of: sluice
{{- end }}
{{ include "sluice.helmLabels" .root }}
{{- end -}}

{{/* Labels of the workloads (Deployment, Service, PDB): name and part-of, as in manifests/. */}}
{{- define "sluice.workloadLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/part-of: sluice
{{ include "sluice.helmLabels" .root }}
{{- end -}}

{{/* Pod template labels: the selector's, part-of and commonLabels. */}}
{{- define "sluice.podLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/part-of: sluice
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "sluice.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The pods' annotations: Prometheus scraping of port 8080, then podAnnotations. */}}
{{- define "sluice.podAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: "8080"
prometheus.io/path: /metrics
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Arguments of both halves: sluice's namespace (the release's), and the default router, which the webhook
and the controller must agree on; kubernetes is the binary's default and needs no flag.
*/}}
{{- define "sluice.commonArgs" -}}
- --namespace={{ .Release.Namespace }}
{{- if ne .Values.defaultProvider "kubernetes" }}
- --default-provider={{ .Values.defaultProvider }}
{{- end }}
{{- end -}}
