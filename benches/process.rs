//! Benchmarks of [`trust_inject::process`] alone (no file or pipe I/O).
//!
//! Three groups, all reporting throughput in input bytes:
//! - `generated`: streams of 100, 1,000 and 10,000 documents built in code, one document in
//!   eight a workload (12.5%), the rest the objects a rendered chart carries around them;
//! - `dense`: streams of 1,000, 10,000 and 100,000 small block-style workloads and nothing
//!   else (Pods, Deployments with an init container, CronJobs; ~330 bytes each, as
//!   `scripts/bench.sh` generates them), reporting workloads per second too (its inverse
//!   is the time per workload, which should stay flat as the stream grows);
//! - `corpus`: each file of the shared corpus (`../shared/corpus/*.yaml`, beside the
//!   repository), skipped with a note when the corpus is not there.
//!
//! `cargo bench --bench process` runs them; `cargo bench --bench process -- generated/1000`
//! picks one. Whole-binary numbers (start-up, memory, `cat` and serde_yaml comparisons) come
//! from `scripts/bench.sh`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use trust_inject::{Options, process};

/// Sizes of the generated streams, in documents.
const GENERATED_DOCS: [usize; 3] = [100, 1_000, 10_000];

/// One document in this many is a workload.
const WORKLOAD_EVERY: usize = 8;

fn options() -> Options {
    Options::from_configmap("corp-ca", "ca.crt")
}

/// Appends document `i` of a generated stream, each starting with `---` and a Helm
/// `# Source:` line, as `helm template` writes them.
fn push_document(out: &mut String, i: usize) {
    let app = format!("app{}", i / WORKLOAD_EVERY);
    let ns = format!("team-{}", i % 7);
    let kind_slot = i % WORKLOAD_EVERY;
    // Writing to a String cannot fail.
    let _ = match kind_slot {
        0 => write!(
            out,
            "---\n# Source: {app}/templates/workload.yaml\n{}",
            workload(i, &app, &ns)
        ),
        1 => write!(
            out,
            r#"---
# Source: {app}/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {app}
    app.kubernetes.io/instance: release-{i}
    helm.sh/chart: {app}-1.2.3
spec:
  type: ClusterIP
  ports:
    - port: 80
      targetPort: http
      protocol: TCP
      name: http
  selector:
    app.kubernetes.io/name: {app}
"#
        ),
        2 => write!(
            out,
            r#"---
# Source: {app}/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-config
  namespace: {ns}
data:
  LOG_LEVEL: "info"
  config.yaml: |
    server:
      port: 8080
      # a comment inside a block scalar
      timeout: 30s
    upstreams:
      - https://{app}.{ns}.svc.cluster.local
      - https://api.example.com
"#
        ),
        3 => write!(
            out,
            r#"---
# Source: {app}/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {app}
  namespace: {ns}
  annotations:
    eks.amazonaws.com/role-arn: "arn:aws:iam::123456789012:role/{app}"
automountServiceAccountToken: false
"#
        ),
        4 => write!(
            out,
            r#"---
# Source: {app}/templates/role.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {app}
  namespace: {ns}
rules:
  - apiGroups: [""]
    resources: ["configmaps", "secrets"]
    verbs: ["get", "list", "watch"]
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "create", "update"]
"#
        ),
        5 => write!(
            out,
            r#"---
# Source: {app}/templates/rolebinding.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {app}
  namespace: {ns}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {app}
subjects:
  - kind: ServiceAccount
    name: {app}
    namespace: {ns}
"#
        ),
        6 => write!(
            out,
            r#"---
# Source: {app}/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: {app}-credentials
  namespace: {ns}
type: Opaque
data:
  username: YWRtaW4=
  password: c2VjcmV0LXBhc3N3b3JkLXRoYXQtaXMtbG9uZy1lbm91Z2g=
"#
        ),
        _ => write!(
            out,
            r#"---
# Source: {app}/templates/ingress.yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {app}
  namespace: {ns}
  annotations:
    nginx.ingress.kubernetes.io/proxy-body-size: "8m"
spec:
  ingressClassName: nginx
  tls:
    - hosts: ["{app}.example.com"]
      secretName: {app}-tls
  rules:
    - host: {app}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {app}
                port:
                  name: http
"#
        ),
    };
}

/// A workload: Deployment, StatefulSet, Job and CronJob in turn, with an init container and
/// existing volumes, mounts and env to merge into.
fn workload(i: usize, app: &str, ns: &str) -> String {
    let n = i / WORKLOAD_EVERY;
    let pod = format!(
        r#"metadata:
  labels:
    app.kubernetes.io/name: {app}
spec:
  serviceAccountName: {app}
  securityContext:
    runAsNonRoot: true
  initContainers:
    - name: migrate
      image: "registry.example.com/{app}-migrate:1.{n}.0"
      args: ["--wait", "--timeout=60s"]
  containers:
    - name: {app}
      image: "registry.example.com/{app}:1.{n}.0"
      imagePullPolicy: IfNotPresent
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
      env:
        - name: LOG_LEVEL
          valueFrom:
            configMapKeyRef:
              name: {app}-config
              key: LOG_LEVEL
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
      resources:
        limits:
          memory: 256Mi
        requests:
          cpu: 100m
          memory: 128Mi
      volumeMounts:
        - name: config
          mountPath: /etc/{app}
          readOnly: true
  volumes:
    - name: config
      configMap:
        name: {app}-config
"#
    );
    let (api, kind, spec_head, depth) = match n % 4 {
        0 => ("apps/v1", "Deployment", "  replicas: 2\n  template:\n", 4),
        1 => (
            "apps/v1",
            "StatefulSet",
            "  serviceName: headless\n  template:\n",
            4,
        ),
        2 => ("batch/v1", "Job", "  backoffLimit: 3\n  template:\n", 4),
        _ => (
            "batch/v1",
            "CronJob",
            "  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n",
            8,
        ),
    };
    let indent = " ".repeat(depth);
    let mut s = format!(
        "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n{spec_head}"
    );
    for line in pod.lines() {
        s.push_str(&indent);
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// A stream of `docs` documents, one in [`WORKLOAD_EVERY`] a workload.
fn generated_stream(docs: usize) -> String {
    let mut out = String::new();
    for i in 0..docs {
        push_document(&mut out, i);
    }
    out
}

/// Sizes of the dense streams, in workloads.
const DENSE_WORKLOADS: [usize; 3] = [1_000, 10_000, 100_000];

/// The workloads of the dense streams, `{i}` and `{ns}` to be filled in: a Pod, a
/// Deployment with an init container and a CronJob. `scripts/bench.sh` builds its dense
/// stream from the same file.
const DENSE_WORKLOADS_YAML: &str = include_str!("dense-workloads.yaml");

/// A stream of `n` small workloads: the documents of [`DENSE_WORKLOADS_YAML`] in turn.
fn dense_stream(n: usize) -> String {
    let templates: Vec<&str> = DENSE_WORKLOADS_YAML
        .split("---\n")
        .filter(|t| !t.is_empty())
        .collect();
    let mut out = String::new();
    for i in 0..n {
        let template = templates[i % templates.len()];
        out.push_str("---\n");
        out.push_str(
            &template
                .replace("{i}", &i.to_string())
                .replace("{ns}", &(i % 7).to_string()),
        );
    }
    out
}

fn bench_dense(c: &mut Criterion) {
    let opts = options();
    let mut group = c.benchmark_group("dense");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for n in DENSE_WORKLOADS {
        let input = dense_stream(n);
        let out = process(&input, &opts).expect("the dense stream processes");
        assert_eq!(out.summary.workloads, n);
        group.throughput(Throughput::ElementsAndBytes {
            elements: n as u64,
            bytes: input.len() as u64,
        });
        group.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, input| {
            b.iter(|| process(black_box(input), &opts));
        });
    }
    group.finish();
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// The corpus files (name, text), sorted by name; empty when the corpus is missing.
fn corpus_files() -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(corpus_dir()) else {
        eprintln!(
            "corpus benchmarks skipped: {} not found",
            corpus_dir().display()
        );
        return Vec::new();
    };
    let mut files: Vec<(String, String)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some((name, std::fs::read_to_string(&p).ok()?))
        })
        .collect();
    files.sort();
    files
}

fn bench_generated(c: &mut Criterion) {
    let opts = options();
    let mut group = c.benchmark_group("generated");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for docs in GENERATED_DOCS {
        let input = generated_stream(docs);
        // A stream that does not process would make every number meaningless.
        let out = process(&input, &opts).expect("the generated stream processes");
        assert_eq!(out.summary.documents, docs);
        assert_eq!(out.summary.workloads, docs.div_ceil(WORKLOAD_EVERY));
        group.throughput(Throughput::BytesDecimal(input.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(docs), &input, |b, input| {
            b.iter(|| process(black_box(input), &opts));
        });
    }
    group.finish();
}

fn bench_corpus(c: &mut Criterion) {
    let opts = options();
    let mut group = c.benchmark_group("corpus");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (name, input) in corpus_files() {
        process(&input, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        group.throughput(Throughput::BytesDecimal(input.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&name), &input, |b, input| {
            b.iter(|| process(black_box(input), &opts));
        });
    }
    group.finish();
}

criterion_group!(benches, bench_generated, bench_dense, bench_corpus);
criterion_main!(benches);
