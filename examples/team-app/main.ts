// Two teams' cdk8s app on the platform's constructs: plain cdk8s `App` and `Chart`s, as the
// cdk8s typescript-app template makes them. The platform team's chart runs one Prometheus; the
// orders team runs its own Redis, a Go API (with a canary) behind NGINX and the router, and a
// Grafana with its own dashboards; the payments team has a Grafana of its own on the same Prometheus.
import * as path from 'path';
import { App, Chart, ChartProps, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  addMonitoring,
  Backend,
  Grafana,
  IPrometheusEndpoint,
  Nginx,
  Prometheus,
  Redis,
  Router,
  denyAllTrafficExceptDns,
  setEphemeralStorage,
  setMetricsScraperNamespaces,
  monitorGoService,
  platformDashboardsDir,
  restrictPod,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from 'cdk8s-platform-stack';

/** The namespaces of the app, with Pod Security "restricted" enforced (cluster-scoped: a chart without a namespace). */
class Namespaces extends Chart {
  constructor(scope: Construct, id: string, names: readonly string[]) {
    super(scope, id);
    for (const name of names) {
      new kplus.Namespace(this, name, { metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } });
    }
  }
}

/** The platform team's chart: one Prometheus for every team. */
class MonitoringChart extends Chart {
  public readonly prometheus: Prometheus;
  constructor(scope: Construct, id: string, props: ChartProps) {
    super(scope, id, props);
    denyAllTrafficExceptDns(this); // isolated: each construct opens exactly the connections it makes
    // Discovers the teams' namespaces besides its own (and may connect to their pods).
    this.prometheus = new Prometheus(this, 'prometheus', { retention: Duration.days(7), scrapeNamespaces: ['orders', 'payments'] });
  }
}

/** A Go HTTP service of the team, hardened for Pod Security "restricted". */
function goService(scope: Construct, id: string, image: string): kplus.Deployment {
  const deployment = new kplus.Deployment(scope, id, {
    replicas: 1,
    securityContext: restrictedPodSecurityContext(65532),
    automountServiceAccountToken: false,
  });
  const api = deployment.addContainer({
    name: 'api',
    image,
    ports: [{ number: 8080, name: 'http' }, { number: 9090, name: 'metrics' }],
    securityContext: restrictedContainerSecurityContext(65532),
    resources: { cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) }, memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) } },
    readiness: kplus.Probe.fromHttpGet('/readyz', { port: 8080, periodSeconds: Duration.seconds(5) }),
    liveness: kplus.Probe.fromHttpGet('/healthz', { port: 8080, periodSeconds: Duration.seconds(15) }),
  });
  // Logs only (no emptyDir); cdk8s-plus writes ephemeral storage in whole Gi, this helper in Mi.
  setEphemeralStorage(deployment, api, { request: Size.mebibytes(64), limit: Size.mebibytes(256) });
  restrictPod(deployment); // seccomp RuntimeDefault and every capability dropped
  return deployment;
}

/**
 * The orders team's own alert, brought by its API as the library's constructs bring theirs
 * (addMonitoring): the shared Prometheus evaluates it, as it scrapes the orders namespace.
 */
const ORDERS_API_RULES = {
  name: 'orders-api',
  rules: [{
    alert: 'OrdersApiGoroutineLeak',
    expr: 'max by (namespace, pod) (go_goroutines{namespace="orders"}) > 10000',
    for: '15m',
    labels: { severity: 'warning', team: 'orders' },
    annotations: { summary: 'Orders API {{ $labels.pod }} runs over 10000 goroutines', description: 'A leak grows until the pod runs out of memory: take a goroutine profile (pprof, kubectl port-forward).' },
  }],
};

/** The orders team: its Redis, its Go API and a canary, NGINX + router in front, its Grafana. */
class OrdersChart extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps & { prometheus: IPrometheusEndpoint }) {
    super(scope, id, props);
    setMetricsScraperNamespaces(this, ['monitoring']); // the shared Prometheus scrapes these pods (before the default-deny writes the policies)
    denyAllTrafficExceptDns(this);
    const redis = new Redis(this, 'redis', { preset: 'durable', storageSize: Size.gibibytes(5) });

    const api = goService(this, 'api', 'registry.example.com/orders/api:1.4.2');
    const canary = goService(this, 'api-canary', 'registry.example.com/orders/api:1.5.0-rc.1');
    for (const workload of [api, canary]) {
      // Metrics on their own port, pprof on a private one (kubectl port-forward only).
      monitorGoService(workload, { metricsPort: 9090 });
      redis.allowFrom(workload);
    }
    // The team's own alert and dashboard, the way Redis, NGINX and the router bring theirs.
    addMonitoring(api, { ruleGroups: [ORDERS_API_RULES], dashboards: [path.join(__dirname, 'dashboards', 'orders', 'orders-api.json')] });
    const apiService = new kplus.Service(this, 'api-service', { selector: api, ports: [{ port: 80, targetPort: 8080 }] });
    const canaryService = new kplus.Service(this, 'api-canary-service', { selector: canary, ports: [{ port: 80, targetPort: 8080 }] });

    const router = new Router(this, 'router', {
      targets: ['api', 'api-canary'],
      rules: [
        { strategy: 'header', params: { name: 'X-Canary', value: 'always', target: 'api-canary' } },
        { strategy: 'weighted', params: { weights: { api: 95, 'api-canary': 5 }, stickyBy: { cookie: 'session' } } },
      ],
    });
    new Nginx(this, 'nginx', {
      router,
      backends: [
        Backend.fromService('api', apiService, { workload: api }),
        Backend.fromService('api-canary', canaryService, { workload: canary }),
      ],
    });

    // Made last: it shows the dashboards the systems above brought (Redis, NGINX and the router,
    // the Go runtime, the team's own orders-api).
    new Grafana(this, 'grafana', {
      prometheus: props.prometheus,
      adminUser: { name: 'orders-grafana-admin', key: 'admin-user' }, // an existing Secret, made out of band
      adminPassword: { name: 'orders-grafana-admin', key: 'admin-password' },
    });
  }
}

/** The payments team: only a Grafana of its own, with the shipped dashboards, on the shared Prometheus. */
class PaymentsChart extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps & { prometheus: IPrometheusEndpoint }) {
    super(scope, id, props);
    // Without it the library writes no NetworkPolicy here (nothing isolated, nothing cut), and the
    // platform gate flags the pods no policy selects (kube-score's pod-networkpolicy).
    setMetricsScraperNamespaces(this, ['monitoring']);
    denyAllTrafficExceptDns(this);
    new Grafana(this, 'grafana', {
      prometheus: props.prometheus,
      adminUser: { name: 'payments-grafana-admin', key: 'admin-user' },
      adminPassword: { name: 'payments-grafana-admin', key: 'admin-password' },
      dashboardsDirs: [platformDashboardsDir()],
    });
  }
}

const app = new App();
new Namespaces(app, 'namespaces', ['monitoring', 'orders', 'payments']);
const { prometheus } = new MonitoringChart(app, 'monitoring', { namespace: 'monitoring' });
new OrdersChart(app, 'orders', { namespace: 'orders', prometheus });
new PaymentsChart(app, 'payments', { namespace: 'payments', prometheus });
app.synth();
