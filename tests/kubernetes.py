#!/usr/bin/python3
"""The container image file and the Kubernetes example, checked without a cluster.

packaging/kubernetes/*.yaml parse as YAML and each document is a Kubernetes object; the
kustomization lists files that exist; the ConfigMap's configuration passes norikv-sidecar -t
(with the sockets moved somewhere this machine has) and, run in front of a devnode, answers
each probe's path with 200; and the pieces agree with each other
and with the sidecar: the native sidecar (an init container with restartPolicy: Always)
reads the ConfigMap's file where the ConfigMap is mounted, the socket's directory is an
emptyDir both containers mount, the application is pointed at that socket, unix_group is
the pod's fsGroup, the probes ask [metrics] listen's port for /readyz and /healthz on an
address the kubelet can reach (every address, IPv6 and IPv4: [::]), and the Containerfile's user, volume and configuration path
are the manifests'. Prints one line per failed check; exits 0, 1, or 77 when python3-yaml
is missing or the sidecar has no [metrics] section yet (the probes' endpoints).

Usage: python3 tests/kubernetes.py (from the build directory; srcdir and NORIKV_SIDECAR as
make check sets them).
"""

import configparser
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

try:
    import yaml
except ImportError:
    print("python3-yaml not installed: skipped")
    sys.exit(77)

SRCDIR = os.environ.get("srcdir", ".")
SIDECAR = os.path.abspath(os.environ.get("NORIKV_SIDECAR", "./norikv-sidecar"))
K8S = os.path.join(SRCDIR, "packaging", "kubernetes")
CONTAINERFILE = os.path.join(SRCDIR, "packaging", "container", "Containerfile")

failures = []
passed = 0


def check(cond, what, detail=""):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print("FAIL %s%s" % (what, ": %s" % (detail,) if detail != "" else ""))
    return cond


def load_all():
    docs = {}
    for name in sorted(os.listdir(K8S)):
        if not name.endswith(".yaml"):
            continue
        path = os.path.join(K8S, name)
        try:
            with open(path) as f:
                found = [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            check(False, "%s parses as YAML" % name, e)
            continue
        check(len(found) > 0, "%s holds a document" % name)
        for d in found:
            ok = isinstance(d, dict) and d.get("apiVersion") and d.get("kind")
            check(ok, "%s: every document has apiVersion and kind" % name, d)
            if ok and d["kind"] != "Kustomization":
                check(isinstance(d.get("metadata"), dict) and d["metadata"].get("name"),
                      "%s: %s has a metadata.name" % (name, d["kind"]))
            if ok:
                docs.setdefault(d["kind"], []).append((name, d))
    return docs


def ini(text):
    p = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"),
                                  inline_comment_prefixes=None, strict=True)
    p.read_string(text)
    return p


def mounts_of(container):
    return {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}


def port_number(container, port):
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def known_sections():
    """{section: {key, ...}} of the sidecar's configuration table."""
    config = subprocess.run([SIDECAR, "--print-config"], capture_output=True, text=True,
                            timeout=20).stdout
    return {s: set(re.findall(r"^([a-z_]+) =", body, re.M)) for s, body in
            re.findall(r"^\[([a-z]+)\]\n(.*?)(?=^\[|\Z)", config, re.M | re.S)}


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=5)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.path)


def http_get(sock, path):
    c = UnixHTTPConnection(sock)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode(errors="replace")
    except OSError as e:
        return None, str(e)
    finally:
        c.close()


def serve_probes(conf_path, here, tmp, sc):
    """The sidecar run on the ConfigMap's file in front of a devnode: every probe of the
    Deployment gets 200 on its path once the sidecar holds the cluster's view."""
    devnode = os.path.abspath(os.environ.get("NORIKV_DEVNODE", "./norikv-devnode"))
    procs = []
    try:
        for attempt in range(10):
            base = (os.getpid() * 17 + attempt * 7919) % 30000 + 20000
            log = open(os.path.join(tmp, "devnode.out"), "w+")
            dn = subprocess.Popen([devnode, "--nodes", "1", "--base-port", str(base)],
                                  stdout=log, stderr=subprocess.STDOUT)
            deadline = time.time() + 5
            while time.time() < deadline and dn.poll() is None:
                log.seek(0)
                if "ready on" in log.read():
                    break
                time.sleep(0.05)
            if dn.poll() is None:
                procs.append(dn)
                break
        if not check(procs, "a devnode to run the sidecar against"):
            return
        with open(os.path.join(tmp, "sidecar.out"), "w") as out:
            procs.append(subprocess.Popen(
                [SIDECAR, "-c", conf_path, "--cluster.nodes=127.0.0.1:%d" % base] + here,
                stdout=out, stderr=subprocess.STDOUT))
        metrics = here[-1].split("=", 1)[1]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if probe not in sc:
                continue
            path = sc[probe]["httpGet"]["path"]
            deadline, got = time.time() + 20, (None, "")
            while time.time() < deadline and procs[-1].poll() is None:
                got = http_get(metrics, path)
                if got[0] == 200:
                    break
                time.sleep(0.1)
            check(got[0] == 200, "the sidecar on the ConfigMap's file answers %s's %s with 200"
                  % (probe, path), got)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def main():
    docs = load_all()
    for name, k in docs.get("Kustomization", []):
        for r in k.get("resources", []):
            check(os.path.exists(os.path.join(K8S, r)), "%s lists %s, which exists" % (name, r))
    cms = docs.get("ConfigMap", [])
    deps = docs.get("Deployment", [])
    if not (check(len(cms) == 1, "one ConfigMap") and check(len(deps) == 1, "one Deployment")):
        return
    cm, dep = cms[0][1], deps[0][1]
    pod = dep["spec"]["template"]["spec"]
    check(dep["spec"]["selector"]["matchLabels"].items() <=
          dep["spec"]["template"]["metadata"]["labels"].items(),
          "the Deployment's selector matches its pod labels")

    # the native sidecar
    sidecars = [c for c in pod.get("initContainers", []) if c.get("restartPolicy") == "Always"]
    if not check(len(sidecars) == 1 and "norikv-sidecar" in sidecars[0].get("image", ""),
                 "one native sidecar (initContainers, restartPolicy: Always) running "
                 "norikv-sidecar", pod.get("initContainers")):
        return
    sc = sidecars[0]
    apps = pod.get("containers", [])
    check(len(apps) >= 1, "an application container")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}

    # its configuration: -c PATH in the ConfigMap's volume
    args = sc.get("args", [])
    conf_path = args[args.index("-c") + 1] if "-c" in args[:-1] else None
    if not check(conf_path is not None, "the sidecar is given -c FILE", args):
        return
    conf_dir, conf_key = os.path.dirname(conf_path), os.path.basename(conf_path)
    sc_mounts = mounts_of(sc)
    cm_volume = [n for n, v in volumes.items()
                 if v.get("configMap", {}).get("name") == cm["metadata"]["name"]]
    check(len(cm_volume) == 1 and sc_mounts.get(cm_volume[0]) == conf_dir,
          "the ConfigMap is mounted at %s in the sidecar" % conf_dir, sc_mounts)
    text = cm.get("data", {}).get(conf_key)
    if not check(text is not None, "the ConfigMap holds %s" % conf_key, list(cm.get("data", {}))):
        return
    try:
        conf = ini(text)
    except configparser.Error as e:
        check(False, "the ConfigMap's %s parses as INI" % conf_key, e)
        return

    # the socket: an emptyDir both containers mount, the application pointed at it
    listen = conf.get("sidecar", "listen", fallback=None)
    default_listen = None
    r = subprocess.run([SIDECAR, "--print-config"], capture_output=True, text=True, timeout=20)
    m = re.search(r"^listen = (.*)$", r.stdout, re.M)
    if m:
        default_listen = m.group(1)
    listen = listen or default_listen
    check(listen is not None, "a socket path, from the file or the default")
    sock_dir = os.path.dirname(listen or "")
    sock_volume = [n for n, p in sc_mounts.items() if p == sock_dir]
    check(len(sock_volume) == 1 and "emptyDir" in volumes.get(sock_volume[0], {}),
          "the socket's directory %s is an emptyDir mounted in the sidecar" % sock_dir, sc_mounts)
    for app in apps:
        check(sock_volume and mounts_of(app).get(sock_volume[0]) == sock_dir,
              "%s mounts the socket's volume at %s" % (app["name"], sock_dir), mounts_of(app))
        env = " ".join(str(e.get("value", "")) for e in app.get("env", []))
        check(listen in env, "%s is pointed at %s" % (app["name"], listen), env)

    # the socket's group: the pod's fsGroup, which the sidecar belongs to
    group = conf.get("sidecar", "unix_group", fallback="")
    fs_group = pod.get("securityContext", {}).get("fsGroup")
    if group:
        check(fs_group is not None and group == str(fs_group),
              "unix_group (%s) is the pod's fsGroup (%s)" % (group, fs_group))
    check(pod.get("securityContext", {}).get("runAsNonRoot") is True, "the pod runs as non-root")
    uid = sc.get("securityContext", {}).get("runAsUser")
    check(isinstance(uid, int) and uid != 0, "the sidecar runs as a non-root uid", uid)

    # the Containerfile agrees
    with open(CONTAINERFILE) as f:
        cf = f.read()
    check(re.search(r"^FROM debian:bookworm-slim$", cf, re.M), "the image is Debian 12 slim")
    check(re.search(r"^COPY norikv-sidecar_\*\.deb ", cf, re.M) and "apt-get install" in cf,
          "the image installs the norikv-sidecar package")
    m = re.search(r"^USER (\d+)(?::(\d+))?$", cf, re.M)
    check(m and int(m.group(1)) == uid and
          (m.group(2) is None or int(m.group(2)) == sc["securityContext"].get("runAsGroup")),
          "the image's USER is the sidecar's runAsUser/runAsGroup", m and m.group(0))
    check(re.search(r"^VOLUME %s$" % re.escape(sock_dir), cf, re.M),
          "the image's VOLUME is the socket's directory %s" % sock_dir)
    check('CMD ["-c", "%s"]' % conf_path in cf, "the image's CMD reads %s" % conf_path)

    # the probes: /readyz and /healthz on [metrics] listen's port, reachable by the kubelet
    metrics = conf.get("metrics", "listen", fallback="")
    mm = re.match(r"^(.*):(\d+)$", metrics)
    if check(mm is not None, "[metrics] listen is an address and port", metrics):
        host, port = mm.group(1), int(mm.group(2))
        check(host == "[::]", "[metrics] listen is on every address, IPv6 and IPv4 ([::]: "
              "the kubelet probes the pod's IP, and 0.0.0.0 has none on an IPv6-only "
              "cluster)", host)
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"),
                            ("startupProbe", None)):
            p = sc.get(probe)
            if probe == "startupProbe" and p is None:
                continue
            ok = p is not None and "httpGet" in p
            if check(ok, "the sidecar has an HTTP %s" % probe, p):
                g = p["httpGet"]
                check(path is None and g.get("path") in ("/healthz", "/readyz") or
                      g.get("path") == path, "%s asks %s" % (probe, path or "/healthz"), g)
                check(port_number(sc, g.get("port")) == port,
                      "%s's port is [metrics] listen's %d" % (probe, port), g)
        exposed = re.search(r"^EXPOSE (\d+)$", cf, re.M)
        check(exposed and int(exposed.group(1)) == port, "the image EXPOSEs port %d" % port)

    # the configuration itself, as the sidecar reads it
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, conf_key)
        with open(path, "w") as f:
            f.write(text)
        # the socket and the metrics listener moved to where this test may listen (a
        # socket: no port outside loopback), the group to one this user is in
        here = ["--sidecar.listen=" + os.path.join(tmp, "norikv.sock"),
                "--sidecar.unix_group=%d" % os.getegid(),
                "--metrics.listen=" + os.path.join(tmp, "metrics.sock")]
        r = subprocess.run([SIDECAR, "-t", "-c", path] + here, capture_output=True, text=True,
                           timeout=20)
        if r.returncode == 0 and "metrics" in known_sections():
            serve_probes(path, here, tmp, sc)
    known = known_sections()
    unknown = [(s, k) for s in conf.sections() for k in conf[s] if k not in known.get(s, ())]
    if unknown and all(s == "metrics" for s, _ in unknown) and "metrics" not in known:
        if failures:
            return
        print("norikv-sidecar has no [metrics] section (its /healthz and /readyz, which the "
              "probes use): %d checks passed, the configuration check skipped" % passed)
        sys.exit(77)
    check(not unknown, "every key of the ConfigMap is a key of norikv-sidecar", unknown)
    check(r.returncode == 0, "norikv-sidecar -t accepts the ConfigMap's configuration",
          (r.stdout + r.stderr).strip())


if __name__ == "__main__":
    main()
    print("%d passed, %d failed" % (passed, len(failures)))
    sys.exit(1 if failures else 0)
