{{/* Names, labels, the application's TOML configuration and its secret environment. */}}

{{- define "portal.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "portal.fullname" -}}
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

{{- define "portal.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource, without a component. */}}
{{- define "portal.commonLabels" -}}
helm.sh/chart: {{ include "portal.chart" . }}
app.kubernetes.io/name: {{ include "portal.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: portal
{{- end }}

{{/* The `portal serve` pods (the component keeps the migration Job's pod out of the
     Deployment's, the Service's and the PDB's selectors). */}}
{{- define "portal.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portal.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{- define "portal.labels" -}}
{{ include "portal.commonLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "portal.migrationLabels" -}}
{{ include "portal.commonLabels" . }}
app.kubernetes.io/component: migration
{{- end }}

{{- define "portal.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "portal.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The migration hook cannot use the chart's own ServiceAccount: on a first install it is
     created after pre-install hooks. */}}
{{- define "portal.migrationServiceAccountName" -}}
{{- if .Values.migration.serviceAccountName }}
{{- .Values.migration.serviceAccountName }}
{{- else if and (not .Values.serviceAccount.create) .Values.serviceAccount.name }}
{{- .Values.serviceAccount.name }}
{{- else }}
{{- "default" }}
{{- end }}
{{- end }}

{{- define "portal.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "portal.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "portal.fullname" .)) .Values.ingress.tls.secretName }}
{{- end }}

{{/* Checks of values that would otherwise fail only at run time. */}}
{{- define "portal.checks" -}}
{{- $base := required "baseDomain is required (e.g. dichvucong.gov.vn)" .Values.baseDomain }}
{{- if not (regexMatch "^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$" $base) }}
{{- fail (printf "baseDomain %q must be a lower-case host name" $base) }}
{{- end }}
{{- if has (toString .Values.bindAddress) (list "127.0.0.1" "localhost" "::1" "[::1]") }}
{{- fail "bindAddress must not be a loopback address: probes and the Service could not reach the pod" }}
{{- end }}
{{- $_ := required "secrets.databaseUrl.name is required (a Secret holding DATABASE_URL)" .Values.secrets.databaseUrl.name }}
{{- $_ := required "secrets.jwtSecret.name is required (a Secret holding PORTAL__AUTH__JWT_SECRET)" .Values.secrets.jwtSecret.name }}
{{- with .Values.config }}
{{- range $section := list "server" "storage" }}
{{- $s := get $.Values.config $section | default dict }}
{{- range $key := list "bind" "base_domain" "data_dir" }}
{{- if hasKey $s $key }}
{{- fail (printf "config.%s.%s is set by the chart (baseDomain, bindAddress/containerPort, dataDir); remove it" $section $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- range $section := list "auth" "stripe" "mail" "database" }}
{{- $s := get $.Values.config $section | default dict }}
{{- range $key := list "jwt_secret" "secret_key" "webhook_secret" "webhook_previous_secret" "smtp_url" "url" }}
{{- if hasKey $s $key }}
{{- fail (printf "config.%s.%s is a secret: reference it under `secrets` instead" $section $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.ingress.enabled .Values.ingress.tls.enabled }}
{{- if and (not .Values.ingress.tls.secretName) (not (and .Values.ingress.tls.certificate .Values.ingress.tls.key)) }}
{{- fail "ingress.tls: give certificate and key, or the secretName of an existing kubernetes.io/tls Secret" }}
{{- end }}
{{- if and .Values.ingress.tls.certificate (not .Values.ingress.tls.key) }}
{{- fail "ingress.tls.key is required with ingress.tls.certificate" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The address the server binds in the pod. */}}
{{- define "portal.bind" -}}
{{- printf "%s:%d" (toString .Values.bindAddress) (int .Values.containerPort) }}
{{- end }}

{{/* One TOML value: strings quoted, whole numbers without a decimal point (values arrive as
     float64 from YAML), booleans bare. */}}
{{- define "portal.tomlValue" -}}
{{- $v := . }}
{{- if kindIs "string" $v }}
{{- printf "\"%s\"" ($v | replace "\\" "\\\\" | replace "\"" "\\\"" | replace "\n" "\\n" | replace "\r" "\\r" | replace "\t" "\\t") }}
{{- else if kindIs "bool" $v }}
{{- $v }}
{{- else if or (kindIs "int" $v) (kindIs "int64" $v) }}
{{- $v }}
{{- else if kindIs "float64" $v }}
{{- if eq $v (float64 (int64 $v)) }}{{ int64 $v }}{{ else }}{{ $v }}{{ end }}
{{- else }}
{{- fail (printf "config: unsupported value %v (only strings, numbers and booleans)" $v) }}
{{- end }}
{{- end }}

{{/* The configuration file named by PORTAL_CONFIG: `config` plus what the chart sets. A key
     whose value is null is left out (the compiled default applies). */}}
{{- define "portal.configToml" -}}
{{- $cfg := deepCopy (.Values.config | default dict) }}
{{- $server := get $cfg "server" | default dict }}
{{- $_ := set $server "base_domain" .Values.baseDomain }}
{{- $_ := set $server "bind" (include "portal.bind" .) }}
{{- $_ := set $cfg "server" $server }}
{{- $storage := get $cfg "storage" | default dict }}
{{- $_ := set $storage "data_dir" .Values.dataDir }}
{{- $_ := set $cfg "storage" $storage }}
# Rendered by the portal Helm chart from its values (`config`, `baseDomain`, `dataDir`).
# Overrides the defaults compiled from config/default.toml; PORTAL__* variables override this.
{{- range $section := keys $cfg | sortAlpha }}
{{- $entries := get $cfg $section }}
{{- if not (kindIs "map" $entries) }}
{{- fail (printf "config.%s must be a map of keys (a TOML section)" $section) }}
{{- end }}
{{- $set := 0 }}
{{- range $key, $v := $entries }}{{ if not (kindIs "invalid" $v) }}{{ $set = add1 $set }}{{ end }}{{ end }}
{{- if gt $set 0 }}

[{{ $section }}]
{{- range $key := keys $entries | sortAlpha }}
{{- $v := get $entries $key }}
{{- if not (kindIs "invalid" $v) }}
{{ $key }} = {{ include "portal.tomlValue" $v }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* One environment variable from a secret reference {name, key}; nothing when name is empty. */}}
{{- define "portal.secretEnvVar" -}}
{{- $ref := index . 1 }}
{{- if and $ref $ref.name }}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name | quote }}
      key: {{ required (printf "a key is required for secret %s" $ref.name) $ref.key | quote }}
      {{- if eq (len .) 3 }}
      optional: {{ index . 2 }}
      {{- end }}
{{- end }}
{{- end }}

{{/* The secret environment of `portal serve`: variable names as the code reads them
     (src/config.rs; PORTAL__SECTION__KEY, DATABASE_URL overriding database.url). */}}
{{- define "portal.secretEnv" -}}
{{- $s := .Values.secrets }}
{{- include "portal.secretEnvVar" (list "DATABASE_URL" $s.databaseUrl) }}
{{- include "portal.secretEnvVar" (list "PORTAL__DATABASE__DIRECT_URL" $s.directDatabaseUrl) }}
{{- include "portal.secretEnvVar" (list "PORTAL__AUTH__JWT_SECRET" $s.jwtSecret) }}
{{- include "portal.secretEnvVar" (list "PORTAL__AUTH__JWT_PREVIOUS_SECRET" $s.jwtPreviousSecret true) }}
{{- include "portal.secretEnvVar" (list "PORTAL__MAIL__SMTP_URL" $s.smtpUrl) }}
{{- include "portal.secretEnvVar" (list "PORTAL__STRIPE__SECRET_KEY" $s.stripeSecretKey) }}
{{- include "portal.secretEnvVar" (list "PORTAL__STRIPE__WEBHOOK_SECRET" $s.stripeWebhookSecret) }}
{{- include "portal.secretEnvVar" (list "PORTAL__STRIPE__WEBHOOK_PREVIOUS_SECRET" $s.stripeWebhookPreviousSecret true) }}
{{- end }}

{{/* Environment shared by every container: config file, bind address, log level. */}}
{{- define "portal.commonEnv" -}}
- name: PORTAL_CONFIG
  value: /etc/portal/portal.toml
- name: PORTAL__SERVER__BIND
  value: {{ include "portal.bind" . | quote }}
- name: RUST_LOG
  value: {{ .Values.logLevel | quote }}
{{- end }}

{{/* Pod-level pieces shared by the Deployment and the migration Job. */}}
{{- define "portal.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . | quote }}
  {{- end }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- end }}
