#!/usr/bin/env python3
"""Offline checks of charts/portal; run by charts/validate.sh inside its venv.

1. `helm lint --strict` (Helm's Go SDK through helm-python-sdk) with the default values and
   with every values file under charts/portal/ci/.
2. Renders the chart (install and upgrade) with each of those values files.
3. Validates every rendered manifest against the Kubernetes OpenAPI schemas bundled with
   kubernetes-validate (strict: unknown fields are errors), for the oldest Kubernetes version the
   chart claims (Chart.yaml kubeVersion) and the newest the package bundles.
4. Checks our own rules against the rendered objects and the project's code (config/default.toml,
   src/config.rs): probes, security context, the migration hook, secrets only by reference, the
   ingress hosts, selectors, the configuration file the app will read.
5. Renders values that must be refused and checks that the chart refuses them.

Exit status 0 only when everything passed.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import kubernetes_validate.utils as kv_utils
import yaml

CHARTS = Path(__file__).resolve().parent
CHART = CHARTS / "portal"
ROOT = CHARTS.parent
DEFAULT_TOML = ROOT / "config" / "default.toml"
CONFIG_RS = ROOT / "src" / "config.rs"

# Environment variables that carry secrets (names as src/config.rs reads them).
SECRET_ENV = {
    "DATABASE_URL",
    "PORTAL__DATABASE__URL",
    "PORTAL__DATABASE__DIRECT_URL",
    "PORTAL__AUTH__JWT_SECRET",
    "PORTAL__AUTH__JWT_PREVIOUS_SECRET",
    "PORTAL__MAIL__SMTP_URL",
    "PORTAL__STRIPE__SECRET_KEY",
    "PORTAL__STRIPE__WEBHOOK_SECRET",
    "PORTAL__STRIPE__WEBHOOK_PREVIOUS_SECRET",
}
# Keys that must never appear in the ConfigMap's TOML.
SECRET_KEYS = {
    ("database", "url"),
    ("auth", "jwt_secret"),
    ("auth", "jwt_previous_secret"),
    ("mail", "smtp_url"),
    ("stripe", "secret_key"),
    ("stripe", "webhook_secret"),
    ("stripe", "webhook_previous_secret"),
}
SECRET_LOOKING = re.compile(r"(postgres(ql)?://[^/\s:@]+:[^@\s]+@|sk_(live|test)_|whsec_|smtps?://[^/\s:@]+:[^@\s]+@)")
RELEASE = "portal"
NAMESPACE = "portal"

failures: list[str] = []
passed = 0


def check(ok: bool, what: str) -> None:
    global passed
    if ok:
        passed += 1
    else:
        failures.append(what)
        print(f"  FAIL {what}")


def section(title: str) -> None:
    print(f"\n== {title} ==")


# ---------------------------------------------------------------- what the code accepts


def default_toml() -> dict:
    with open(DEFAULT_TOML, "rb") as f:
        return tomllib.load(f)


def settings_fields() -> dict[str, set[str]]:
    """section -> field names, read from the structs of src/config.rs."""
    text = CONFIG_RS.read_text()
    structs: dict[str, list[tuple[str, str]]] = {}
    for m in re.finditer(r"pub struct (\w+)\s*\{(.*?)\n\}", text, re.S):
        fields = re.findall(r"pub (\w+):\s*([\w:<>]+)", m.group(2))
        structs[m.group(1)] = fields
    out: dict[str, set[str]] = {}
    for name, ty in structs.get("Settings", []):
        out[name] = {f for f, _ in structs.get(ty, [])}
    return out


# ---------------------------------------------------------------- helpers over manifests


def docs_of(rendered: dict[str, str]) -> list[dict]:
    docs = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                doc.setdefault("__template", path)
                docs.append(doc)
    return docs


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d.get("kind") == kind]


def is_hook(doc: dict) -> bool:
    return "helm.sh/hook" in (doc.get("metadata", {}).get("annotations") or {})


def matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def containers_of(pod_spec: dict) -> list[dict]:
    return list(pod_spec.get("initContainers") or []) + list(pod_spec.get("containers") or [])


def env_map(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env") or []}


def split_bind(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    return host, int(port)


# ---------------------------------------------------------------- values.yaml is documented


def check_values_documented() -> None:
    section("values.yaml: every key documented (a comment on it or on an enclosing key)")
    lines = (CHART / "values.yaml").read_text().splitlines()
    stack: list[tuple[int, bool]] = []  # (indent, documented)
    pending_comment = False
    undocumented = []
    for n, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped:
            pending_comment = False
            continue
        if stripped.startswith("#"):
            pending_comment = True
            continue
        indent = len(line) - len(line.lstrip())
        m = re.match(r"([A-Za-z0-9_.\-]+):(.*)$", stripped)
        if not m:
            pending_comment = False
            continue  # list items and block scalars belong to the key above
        while stack and stack[-1][0] >= indent:
            stack.pop()
        documented = pending_comment or any(d for _, d in stack)
        if not documented:
            undocumented.append(f"line {n}: {m.group(1)}")
        stack.append((indent, documented))
        pending_comment = False
    check(not undocumented, f"undocumented values: {undocumented}")
    print(f"  {len(lines)} lines read, {len(undocumented)} undocumented keys")


# ---------------------------------------------------------------- our rules


def check_release(case: str, values: dict, docs: list[dict]) -> None:
    v = values
    base = v["baseDomain"]
    defaults = default_toml()
    fields = settings_fields()
    check(bool(fields), f"{case}: src/config.rs structs found")

    deployments = of_kind(docs, "Deployment")
    check(len(deployments) == 1, f"{case}: exactly one Deployment")
    dep = deployments[0]
    pod = dep["spec"]["template"]["spec"]
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    selector = dep["spec"]["selector"]["matchLabels"]
    check(matches(selector, pod_labels), f"{case}: Deployment selector matches its pods")
    main = next((c for c in pod["containers"] if c["name"] == "portal"), None)
    check(main is not None, f"{case}: container `portal` present")
    if main is None:
        return
    # The command: `portal serve`.
    check(main["command"][0].endswith("/portal") and main.get("args") == ["serve"],
          f"{case}: the container runs `portal serve` (got {main.get('command')} {main.get('args')})")
    ports = {p["name"]: p["containerPort"] for p in main.get("ports", [])}
    check("http" in ports, f"{case}: container port named http")
    # Probes.
    lp = (main.get("livenessProbe") or {}).get("httpGet", {})
    rp = (main.get("readinessProbe") or {}).get("httpGet", {})
    check(lp.get("path") == "/healthz", f"{case}: liveness probe on /healthz")
    check(rp.get("path") == "/readyz", f"{case}: readiness probe on /readyz")
    for name, probe in (("liveness", lp), ("readiness", rp)):
        check(probe.get("port") in ("http", ports.get("http")), f"{case}: {name} probe on the http port")
    # Security context.
    psc = pod.get("securityContext") or {}
    for c in containers_of(pod):
        sc = c.get("securityContext") or {}
        check(sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, f"{case}: {c['name']} runAsNonRoot")
        check((sc.get("runAsUser", psc.get("runAsUser")) or 0) != 0, f"{case}: {c['name']} runs with a non-zero uid")
        check(sc.get("readOnlyRootFilesystem") is True, f"{case}: {c['name']} readOnlyRootFilesystem")
        check(sc.get("allowPrivilegeEscalation") is False, f"{case}: {c['name']} allowPrivilegeEscalation false")
        check("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), f"{case}: {c['name']} drops ALL capabilities")
        check(bool((c.get("resources") or {}).get("requests")) and bool((c.get("resources") or {}).get("limits")),
              f"{case}: {c['name']} has resource requests and limits")
    # Configuration: the ConfigMap the pods mount, named by PORTAL_CONFIG.
    env = env_map(main)
    cfg_path = env.get("PORTAL_CONFIG", {}).get("value", "")
    mounts = {m["mountPath"]: m for m in main.get("volumeMounts", [])}
    volumes = {vol["name"]: vol for vol in pod.get("volumes", [])}
    cfg_dir, _, cfg_file = cfg_path.rpartition("/")
    cfg_mount = mounts.get(cfg_dir)
    check(cfg_mount is not None, f"{case}: PORTAL_CONFIG ({cfg_path}) lies in a mounted volume")
    if cfg_mount is None:
        return
    cfg_volume = volumes[cfg_mount["name"]]
    cm_name = (cfg_volume.get("configMap") or {}).get("name")
    configmaps = {c["metadata"]["name"]: c for c in of_kind(docs, "ConfigMap")}
    check(cm_name in configmaps and not is_hook(configmaps[cm_name]),
          f"{case}: the pods' config volume is the chart's (non-hook) ConfigMap")
    cm = configmaps.get(cm_name, {"data": {}})
    check(cfg_file in cm["data"], f"{case}: the ConfigMap holds {cfg_file}")
    toml_text = cm["data"].get(cfg_file, "")
    try:
        cfg = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as e:
        check(False, f"{case}: the ConfigMap's TOML parses ({e})")
        return
    for sect, entries in cfg.items():
        check(sect in defaults, f"{case}: config section [{sect}] exists in config/default.toml")
        for key, value in entries.items():
            check((sect, key) not in SECRET_KEYS, f"{case}: no secret key {sect}.{key} in the ConfigMap")
            if sect in defaults:
                check(key in defaults[sect], f"{case}: config key {sect}.{key} exists in config/default.toml")
                if key in defaults[sect]:
                    check(type(value) is type(defaults[sect][key]),
                          f"{case}: config {sect}.{key} has the type of config/default.toml "
                          f"({type(value).__name__} vs {type(defaults[sect][key]).__name__})")
    check(not SECRET_LOOKING.search(toml_text), f"{case}: nothing secret-looking in the ConfigMap")
    check(cfg.get("server", {}).get("base_domain") == base, f"{case}: server.base_domain = baseDomain")
    # Bind: 0.0.0.0/[::] on the http port, also in the environment (the image sets its own).
    bind = env.get("PORTAL__SERVER__BIND", {}).get("value", "")
    check(bind == cfg.get("server", {}).get("bind"), f"{case}: PORTAL__SERVER__BIND equals server.bind of the file")
    host, port = split_bind(bind)
    check(host in ("0.0.0.0", "[::]"), f"{case}: the server binds all addresses (got {host})")
    check(port == ports.get("http"), f"{case}: the server binds the http container port")
    # Writable paths: the data dir (mail files) and /tmp on volumes, the rest read-only.
    data_dir = cfg.get("storage", {}).get("data_dir", "")
    check(data_dir.startswith("/") and data_dir in mounts and not mounts[data_dir].get("readOnly"),
          f"{case}: storage.data_dir {data_dir!r} is a writable volume mount")
    check("/tmp" in mounts, f"{case}: /tmp is a volume mount")
    # Environment variables name real settings.
    for c in containers_of(pod) + [c for j in of_kind(docs, "Job") for c in containers_of(j["spec"]["template"]["spec"])]:
        for name, e in env_map(c).items():
            m = re.fullmatch(r"PORTAL__([A-Z0-9_]+?)__([A-Z0-9_]+)", name)
            if m:
                sect, key = m.group(1).lower(), m.group(2).lower()
                check(key in fields.get(sect, set()),
                      f"{case}: {c['name']}: {name} names a field of src/config.rs ({sect}.{key})")
            if name in SECRET_ENV:
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                check("value" not in e and bool(ref), f"{case}: {c['name']}: {name} comes from a secretKeyRef")
            elif "value" in e:
                check(not SECRET_LOOKING.search(str(e["value"])), f"{case}: {c['name']}: {name} holds no secret value")
    # Secret references as the values say.
    for var, key in (("DATABASE_URL", "databaseUrl"), ("PORTAL__AUTH__JWT_SECRET", "jwtSecret"),
                     ("PORTAL__MAIL__SMTP_URL", "smtpUrl"), ("PORTAL__STRIPE__SECRET_KEY", "stripeSecretKey"),
                     ("PORTAL__STRIPE__WEBHOOK_SECRET", "stripeWebhookSecret"),
                     ("PORTAL__STRIPE__WEBHOOK_PREVIOUS_SECRET", "stripeWebhookPreviousSecret")):
        want = v["secrets"][key]
        got = ((env.get(var) or {}).get("valueFrom") or {}).get("secretKeyRef")
        if want.get("name"):
            check(got is not None and got["name"] == want["name"] and got["key"] == want["key"],
                  f"{case}: {var} from secret {want['name']}/{want['key']}")
        else:
            check(got is None, f"{case}: {var} unset when secrets.{key}.name is empty")
    prev = ((env.get("PORTAL__STRIPE__WEBHOOK_PREVIOUS_SECRET") or {}).get("valueFrom") or {}).get("secretKeyRef")
    if prev:
        check(prev.get("optional") is True, f"{case}: the previous webhook secret is optional")
    # The only Secret the chart makes is the ingress certificate.
    for s in of_kind(docs, "Secret"):
        check(s.get("type") == "kubernetes.io/tls", f"{case}: Secret {s['metadata']['name']} is kubernetes.io/tls")
    # Service.
    services = of_kind(docs, "Service")
    check(len(services) == 1, f"{case}: one Service")
    svc = services[0]
    check(matches(svc["spec"]["selector"], pod_labels), f"{case}: the Service selects the pods")
    svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
    check(svc_ports.get("http", {}).get("targetPort") in ("http", ports.get("http")),
          f"{case}: the Service forwards to the http container port")
    # ServiceAccount.
    sa = pod.get("serviceAccountName")
    if v["serviceAccount"]["create"]:
        check(sa in {s["metadata"]["name"] for s in of_kind(docs, "ServiceAccount")},
              f"{case}: the pods' ServiceAccount is rendered")
    else:
        check(not of_kind(docs, "ServiceAccount") and sa == (v["serviceAccount"]["name"] or "default"),
              f"{case}: an existing ServiceAccount is used")
    # Ingress.
    ingresses = of_kind(docs, "Ingress")
    if v["ingress"]["enabled"]:
        check(len(ingresses) == 1, f"{case}: one Ingress")
        ing = ingresses[0]
        hosts = [r["host"] for r in ing["spec"]["rules"]]
        for h in (base, f"ops.{base}", f"*.{base}"):
            check(h in hosts, f"{case}: ingress host {h}")
        for h in v["ingress"]["extraHosts"]:
            check(h in hosts, f"{case}: ingress extra host {h}")
        for r in ing["spec"]["rules"]:
            for p in r["http"]["paths"]:
                b = p["backend"]["service"]
                check(b["name"] == svc["metadata"]["name"] and b["port"].get("name") in svc_ports,
                      f"{case}: ingress {r['host']} goes to the Service's http port")
        if v["ingress"]["tls"]["enabled"]:
            tls = ing["spec"].get("tls") or []
            tls_hosts = {h for t in tls for h in t.get("hosts", [])}
            check(set(hosts) <= tls_hosts, f"{case}: every ingress host is under TLS")
            names = {t["secretName"] for t in tls}
            rendered = {s["metadata"]["name"]: s for s in of_kind(docs, "Secret")}
            if v["ingress"]["tls"]["certificate"]:
                for n in names:
                    check(n in rendered and {"tls.crt", "tls.key"} <= set(rendered[n].get("data", {})),
                          f"{case}: TLS Secret {n} rendered from the values")
            else:
                check(names == {v["ingress"]["tls"]["secretName"]} and not rendered,
                      f"{case}: TLS from the existing Secret {v['ingress']['tls']['secretName']}")
        else:
            check("tls" not in ing["spec"], f"{case}: no TLS section when ingress.tls is off")
    else:
        check(not ingresses, f"{case}: no Ingress when ingress.enabled is false")
    # HPA and replicas.
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    if v["autoscaling"]["enabled"]:
        check(len(hpas) == 1 and hpas[0]["apiVersion"] == "autoscaling/v2", f"{case}: one autoscaling/v2 HPA")
        check(hpas[0]["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"], f"{case}: the HPA scales the Deployment")
        check("replicas" not in dep["spec"], f"{case}: no fixed replicas under the HPA")
    else:
        check(not hpas and dep["spec"].get("replicas") == v["replicaCount"], f"{case}: fixed replicas, no HPA")
    # PDB.
    pdbs = of_kind(docs, "PodDisruptionBudget")
    if v["podDisruptionBudget"]["enabled"]:
        check(len(pdbs) == 1 and matches(pdbs[0]["spec"]["selector"]["matchLabels"], pod_labels),
              f"{case}: the PDB selects the pods")
    else:
        check(not pdbs, f"{case}: no PDB when disabled")
    for t in pod.get("topologySpreadConstraints") or []:
        check(matches((t.get("labelSelector") or {}).get("matchLabels") or {}, pod_labels),
              f"{case}: topology spread constraint selects the pods")
    # Graceful stop: preStop + 20 s drain fit in the grace period.
    pre = int(v["preStopSleepSeconds"])
    check(pod.get("terminationGracePeriodSeconds", 30) >= pre + 20,
          f"{case}: terminationGracePeriodSeconds covers preStop ({pre} s) + the server's 20 s drain")
    # The migration hook.
    jobs = of_kind(docs, "Job")
    if not v["migration"]["enabled"]:
        check(not jobs, f"{case}: no migration Job when migration.enabled is false")
        return
    check(len(jobs) == 1, f"{case}: one migration Job")
    job = jobs[0]
    ann = job["metadata"].get("annotations") or {}
    hooks = set((ann.get("helm.sh/hook") or "").split(","))
    check({"pre-install", "pre-upgrade"} <= hooks, f"{case}: the Job is a pre-install,pre-upgrade hook (got {hooks})")
    jpod = job["spec"]["template"]["spec"]
    check(jpod.get("restartPolicy") == "Never", f"{case}: the Job's pod does not restart in place")
    steps = containers_of(jpod)
    first = steps[0]
    check(first["command"][0].endswith("/portal") and first.get("args") == ["migrate"],
          f"{case}: the Job runs `portal migrate` first (got {first.get('args')})")
    if v["migration"]["applyTenants"]["enabled"]:
        check(len(steps) == 2 and steps[1].get("args") == ["tenants", "apply", v["migration"]["applyTenants"]["path"]]
              and jpod.get("initContainers"), f"{case}: `portal tenants apply` runs after the migration")
    check(not matches(selector, job["spec"]["template"]["metadata"]["labels"]),
          f"{case}: the Job's pod is outside the Deployment's selector")
    check(jpod.get("serviceAccountName") not in {s["metadata"]["name"] for s in of_kind(docs, "ServiceAccount")},
          f"{case}: the hook does not use a ServiceAccount that the release creates after its hooks")
    jvols = {vol["name"]: vol for vol in jpod.get("volumes", [])}
    jcm = None
    for c in steps:
        jenv = env_map(c)
        want = v["secrets"]["migrationDatabaseUrl"] if v["secrets"]["migrationDatabaseUrl"]["name"] else v["secrets"]["databaseUrl"]
        got = ((jenv.get("DATABASE_URL") or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        check(got.get("name") == want["name"] and got.get("key") == want["key"],
              f"{case}: {c['name']} gets DATABASE_URL from {want['name']}/{want['key']}")
        check("PORTAL__AUTH__JWT_SECRET" not in jenv, f"{case}: {c['name']} does not get the JWT key")
        jmounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
        jdir = jenv.get("PORTAL_CONFIG", {}).get("value", "").rpartition("/")[0]
        if jdir in jmounts:
            jcm = (jvols[jmounts[jdir]["name"]].get("configMap") or {}).get("name")
        check(jcm in configmaps and is_hook(configmaps[jcm]),
              f"{case}: {c['name']} reads its config from a hook ConfigMap (exists before the Job)")
    if jcm in configmaps:
        weight = lambda d: int((d["metadata"].get("annotations") or {}).get("helm.sh/hook-weight", "0"))
        check(weight(configmaps[jcm]) < weight(job), f"{case}: the hook ConfigMap is created before the Job")
        check(configmaps[jcm]["data"] == cm["data"], f"{case}: the hook ConfigMap equals the pods' ConfigMap")
        hc_hooks = set(((configmaps[jcm]["metadata"].get("annotations") or {}).get("helm.sh/hook") or "").split(","))
        check({"pre-install", "pre-upgrade"} <= hc_hooks, f"{case}: the hook ConfigMap is a pre-install,pre-upgrade hook")


# ---------------------------------------------------------------- the real binary (optional)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pod_env(container: dict) -> dict[str, str]:
    """The literal (non-secret) environment of a rendered container."""
    return {e["name"]: str(e["value"]) for e in container.get("env") or [] if "value" in e}


def smoke_with_binary(chart, cases: list[tuple[str, dict | None]]) -> None:
    """With PORTAL_BIN (a built `portal`): the rendered config file must load through the
    program's own loader (src/config.rs), and `portal serve` started as the pod would start it
    must answer /healthz and /readyz (the latter needs PORTAL_SMOKE_DATABASE_URL)."""
    import subprocess
    import tempfile
    import time
    import urllib.request

    binary = os.environ.get("PORTAL_BIN")
    section("the real binary reads the rendered configuration")
    if not binary:
        print("  skipped: set PORTAL_BIN=path/to/portal (e.g. target/debug/portal) to run it")
        return
    check(os.access(binary, os.X_OK), f"PORTAL_BIN {binary} is executable")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL") and k != "DATABASE_URL"}
    with tempfile.TemporaryDirectory(prefix="portal-chart-") as tmp:
        for name, values in cases:
            port = free_port()
            over = dict(values or {})
            over.update({"dataDir": f"{tmp}/data-{port}", "containerPort": port})
            docs = docs_of(chart.render(over, name=RELEASE, namespace=NAMESPACE, is_install=True))
            dep = of_kind(docs, "Deployment")[0]
            main = next(c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "portal")
            cm_name = next(v["configMap"]["name"] for v in dep["spec"]["template"]["spec"]["volumes"]
                           if "configMap" in v)
            cm = next(c for c in of_kind(docs, "ConfigMap") if c["metadata"]["name"] == cm_name)
            env = dict(base_env)
            env.update(pod_env(main))
            path = Path(tmp) / f"{port}.toml"
            path.write_text(cm["data"]["portal.toml"])
            env["PORTAL_CONFIG"] = str(path)
            env["PORTAL__AUTH__JWT_SECRET"] = "smoke-test-key-0123456789abcdef-0123456789"
            # 1. Load the settings, then stop at a bad argument: exit 2 naming `--period`, not
            #    the configuration (a bad config file exits 2 with `configuration error: …`).
            env["DATABASE_URL"] = "postgres://smoke@127.0.0.1:1/none"
            r = subprocess.run([binary, "billing", "close", "--period", "not-a-period"], env=env,
                               capture_output=True, text=True, timeout=60)
            loaded = r.returncode == 2 and "--period" in r.stderr and "configuration error" not in r.stderr
            check(loaded, f"{name}: the binary loads the rendered config (exit {r.returncode}: {r.stderr.strip()[:200]})")
            if loaded:
                print(f"  {name}: config file accepted by {binary}")
            # 2. `portal serve` as the pod runs it, probed like the kubelet does.
            db = os.environ.get("PORTAL_SMOKE_DATABASE_URL")
            if values is not None:
                continue
            if not db:
                print("  serve: skipped (set PORTAL_SMOKE_DATABASE_URL to an existing, disposable database)")
                continue
            env["DATABASE_URL"] = db
            env["PORTAL__JOBS__ENABLED"] = "false"  # nothing to run against an empty database
            proc = subprocess.Popen([binary] + main["args"], env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            try:
                got = {}
                deadline = time.time() + 30
                while time.time() < deadline and len(got) < 2:
                    for probe in ("/healthz", "/readyz"):
                        if probe in got:
                            continue
                        try:
                            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=3) as resp:
                                got[probe] = resp.status
                        except OSError:
                            pass
                    time.sleep(0.3)
                check(got.get("/healthz") == 200, f"{name}: serve answers /healthz on the pod's port ({got})")
                check(got.get("/readyz") == 200, f"{name}: serve answers /readyz on the pod's port ({got})")
                check((Path(over["dataDir"]) / "mail").is_dir(), f"{name}: serve made <dataDir>/mail (its only writable path)")
                print(f"  serve: {got} on 0.0.0.0:{port}; {over['dataDir']}/mail created")
            finally:
                proc.terminate()
                try:
                    code = proc.wait(timeout=30)
                    check(code == 0, f"{name}: serve stops cleanly on SIGTERM (exit {code})")
                    print(f"  serve: stopped on SIGTERM, exit {code}")
                except subprocess.TimeoutExpired:
                    proc.kill()
                    check(False, f"{name}: serve did not stop within 30 s of SIGTERM")


# ---------------------------------------------------------------- main


def main() -> int:
    section("versions")
    print(f"  helm-python-sdk: helm-c-sdk {helm.helm_c_version()}, Helm Go SDK {helm.helm_sdk_version()}")
    kv_versions = kv_utils.all_versions()
    chart_meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    oldest = re.search(r"(\d+\.\d+\.\d+)", chart_meta["kubeVersion"]).group(1)
    newest = kv_utils.latest_version()
    k8s_versions = [oldest, newest]
    print(f"  kubernetes-validate {kubernetes_validate.__version__}"
          f" (schemas {kv_versions[0]} … {kv_versions[-1]}); validating against {', '.join(k8s_versions)}")

    cases: list[tuple[str, dict | None]] = [("default values", None)]
    for f in sorted((CHART / "ci").glob("*.yaml")):
        cases.append((f"ci/{f.name}", helm.values_from_yaml(f.read_text())))

    check_values_documented()

    section("helm lint --strict")
    for name, values in cases:
        for kv in k8s_versions:
            report = helm.lint(str(CHART), values, strict=True, kube_version=f"v{kv}")
            bad = [m for m in report["messages"] if m["severity"] >= 2] + [{"error": e} for e in report["errors"]]
            info = [m["error"] for m in report["messages"] if m["severity"] < 2]
            check(not bad, f"lint {name} (k8s {kv}): {bad}")
            print(f"  {name}, kube {kv}: {len(bad)} warnings/errors" + (f"; info: {info}" if info else ""))

    with helm.Chart.load(str(CHART)) as chart:
        for name, values in cases:
            section(f"render + validate: {name}")
            merged = chart.merge_values(values)
            try:
                chart.validate_schema(values)
            except helm.HelmError as e:  # only when a values.schema.json exists
                check(False, f"{name}: values schema: {e}")
            outputs = {}
            for mode in ("install", "upgrade"):
                try:
                    outputs[mode] = chart.render(values, name=RELEASE, namespace=NAMESPACE,
                                                 is_install=mode == "install", is_upgrade=mode == "upgrade")
                except helm.HelmError as e:
                    check(False, f"{name}: render ({mode}) failed: {e}")
            if "install" not in outputs:
                continue
            check(outputs.get("upgrade") == outputs["install"], f"{name}: install and upgrade render the same")
            notes = next((t for p, t in outputs["install"].items() if p.endswith("NOTES.txt")), "")
            check(bool(notes.strip()), f"{name}: NOTES.txt renders")
            docs = docs_of(outputs["install"])
            kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)
            print(f"  {len(docs)} objects: {', '.join(kinds)}")
            for d in docs:
                body = {k: val for k, val in d.items() if k != "__template"}
                for kv in k8s_versions:
                    try:
                        kubernetes_validate.validate(body, kv, strict=True)
                        check(True, "")
                    except kubernetes_validate.ValidationError as e:
                        path = "/".join(str(p) for p in e.path)
                        check(False, f"{name}: {d['kind']}/{d['metadata']['name']} invalid for k8s {kv} at {path}: {e.message}")
                    except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as e:
                        check(False, f"{name}: {d['kind']}/{d['metadata']['name']}: {e.message}")
            before = len(failures)
            check_release(name, merged, docs)
            print(f"  rules: {'ok' if len(failures) == before else f'{len(failures) - before} failed'}")

        section("values the chart must refuse")
        refused = [
            ({"bindAddress": "127.0.0.1"}, "loopback"),
            ({"config": {"auth": {"jwt_secret": "x" * 40}}}, "is a secret"),
            ({"config": {"stripe": {"webhook_secret": "whsec_x"}}}, "is a secret"),
            ({"config": {"server": {"base_domain": "x.vn"}}}, "set by the chart"),
            ({"config": {"storage": {"data_dir": "/x"}}}, "set by the chart"),
            ({"config": {"jobs": {"enabled": [1]}}}, "unsupported value"),
            ({"secrets": {"jwtSecret": {"name": ""}}}, "secrets.jwtSecret.name is required"),
            ({"secrets": {"databaseUrl": {"name": ""}}}, "secrets.databaseUrl.name is required"),
            ({"baseDomain": "Bad_Domain.vn"}, "lower-case host name"),
            ({"ingress": {"tls": {"enabled": True}}}, "ingress.tls"),
            ({"ingress": {"tls": {"enabled": True, "certificate": "c"}}}, "ingress.tls.key is required"),
            ({"autoscaling": {"enabled": True, "targetCPUUtilizationPercentage": None}}, "autoscaling"),
        ]
        for values, why in refused:
            try:
                chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
                check(False, f"refuse {values}: rendered, expected an error mentioning {why!r}")
            except helm.HelmError as e:
                check(why in str(e), f"refuse {values}: error mentions {why!r} (got {e})")
                print(f"  refused {list(values)}: {why}")

        smoke_with_binary(chart, cases)

    section("result")
    print(f"  {passed} passed, {len(failures)} failed")
    for f in failures:
        print(f"  - {f}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
