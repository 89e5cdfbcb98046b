import * as fs from 'fs';
import * as path from 'path';
import { Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { parse } from 'yaml';
import { EnvironmentChart, Grafana, GrafanaProps, platformDashboardsDir, Prometheus, ServiceExposure } from '../lib';
import { ENVIRONMENTS } from '../app/environments';
import { configMapFile, findObject, K8sObject, prometheusStandIn, synthEnvironment, synthWith, testApp } from './support/synth';
import { tempDir } from './support/engines';

const FIXTURES = path.join(__dirname, 'grafana', 'fixtures');


function grafanaProps(scope: Construct, props: Partial<GrafanaProps> = {}): GrafanaProps {
  return {
    prometheus: prometheusStandIn(scope),
    adminUser: { name: 'test-grafana-admin', key: 'admin-user' },
    adminPassword: { name: 'test-grafana-admin', key: 'admin-password' },
    ...props,
  };
}

function synthGrafana(props: Partial<GrafanaProps> = {}, then: (grafana: Grafana) => void = () => {}): K8sObject[] {
  return synthWith((chart) => then(new Grafana(chart, 'grafana', grafanaProps(chart, props))));
}

const podSpec = (objects: K8sObject[]) => findObject(objects, 'Deployment', 'test-grafana').spec.template.spec;
const grafanaContainer = (objects: K8sObject[]) => podSpec(objects).containers[0];
const env = (objects: K8sObject[]) => Object.fromEntries(grafanaContainer(objects).env.map((e: { name: string; value: string }) => [e.name, e.value]));
const datasources = (objects: K8sObject[]) => parse(configMapFile(objects, 'test-grafana-datasources', 'datasources.yaml'));
const envDatasources = (objects: K8sObject[], environment: string) => parse(configMapFile(objects, `${environment}-grafana-datasources`, 'datasources.yaml'));
const checksum = (objects: K8sObject[]) => findObject(objects, 'Deployment', 'test-grafana').spec.template.metadata.annotations['checksum/provisioning'];

describe('Grafana', () => {
  test('defaults', () => {
    // GIVEN a chart and a Prometheus
    // WHEN Grafana is added with only the required props
    const objects = synthGrafana();
    // THEN the objects are as reviewed
    expect(objects).toMatchSnapshot();
  });

  test('provisions Prometheus as the one default datasource, with a fixed uid, wired from the construct', () => {
    // GIVEN / WHEN
    const objects = synthGrafana({ prometheusScrapeInterval: Duration.seconds(15) });
    // THEN
    expect(datasources(objects)).toEqual({
      apiVersion: 1,
      datasources: [{
        name: 'Prometheus', uid: 'prometheus', type: 'prometheus', access: 'proxy', orgId: 1,
        url: 'http://test-prometheus.platform-test.svc:9090', isDefault: true, editable: false,
        jsonData: { httpMethod: 'POST', timeInterval: '15s' },
      }],
    });
    expect(grafanaContainer(objects).volumeMounts).toContainEqual({ name: 'datasources', mountPath: '/etc/grafana/provisioning/datasources', readOnly: true });
  });

  test("timeInterval is the Prometheus construct's scrapeInterval, in every environment (issue 15: dev said 30s, scraping every 15s)", () => {
    // GIVEN a Prometheus scraping every 15 s, and Grafana given only the construct
    const objects = synthWith((chart) => {
      const prometheus = new Prometheus(chart, 'metrics', { scrapeInterval: Duration.seconds(15) });
      new Grafana(chart, 'grafana', grafanaProps(chart, { prometheus }));
    });
    // THEN the datasource says 15s
    expect(datasources(objects).datasources[0].jsonData.timeInterval).toBe('15s');
    // AND each shipped environment's datasource says what its Prometheus scrapes at
    for (const { name } of ENVIRONMENTS) {
      const env = synthEnvironment(name);
      const scrapeInterval = parse(configMapFile(env, `${name}-prometheus`, 'prometheus.yml')).global.scrape_interval;
      expect({ name, timeInterval: envDatasources(env, name).datasources[0].jsonData.timeInterval }).toEqual({ name, timeInterval: scrapeInterval });
    }
  });

  test('fails when prometheusScrapeInterval contradicts the Prometheus construct', () => {
    expect(() => synthWith((chart) => {
      const prometheus = new Prometheus(chart, 'metrics', { scrapeInterval: Duration.seconds(15) });
      new Grafana(chart, 'grafana', grafanaProps(chart, { prometheus, prometheusScrapeInterval: Duration.seconds(30) }));
    })).toThrow("prometheusScrapeInterval must be unset: the Prometheus scrapes every 15s (set only for an endpoint that does not say), got '30s'");
  });

  test('addDatasource provisions more datasources and rolls the pods', () => {
    // GIVEN
    const before = checksum(synthGrafana());
    // WHEN a datasource is added after construction
    const objects = synthGrafana({}, (grafana) => grafana.addDatasource({ name: 'Loki', uid: 'loki', type: 'loki', url: 'http://loki.logs.svc:3100' }));
    // THEN it is provisioned, not as the default, and the pod template changes
    const provisioned = datasources(objects).datasources;
    expect(provisioned.map((d: { uid: string; isDefault: boolean }) => [d.uid, d.isDefault])).toEqual([['prometheus', true], ['loki', false]]);
    expect(checksum(objects)).not.toEqual(before);
  });

  test('fails when a second datasource is the default', () => {
    // GIVEN / WHEN / THEN
    expect(() => synthGrafana({}, (grafana) => grafana.addDatasource({ name: 'Thanos', uid: 'thanos', type: 'prometheus', url: 'http://thanos:9090', isDefault: true })))
      .toThrow("Grafana 'test/grafana': datasource 'Thanos' isDefault must be false: 'Prometheus' is already the default, and Grafana crash-loops on two default datasources, got true");
  });

  test('fails when a datasource reuses a uid or name, or has a bad uid or url', () => {
    // GIVEN / WHEN
    const build = () => synthGrafana({
      additionalDatasources: [
        { name: 'Prometheus', uid: 'prometheus', type: 'prometheus', url: 'http://other:9090' },
      ],
    });
    // THEN one error lists each problem
    expect(build).toThrow("Grafana 'test/grafana' has 2 invalid props:\n  - datasource 'Prometheus' name must be unique (it is already taken), got 'Prometheus'\n  - datasource 'Prometheus' uid must be unique (it is already the uid of 'Prometheus'), got 'prometheus'");
    expect(() => synthGrafana({}, (g) => g.addDatasource({ name: 'Loki', uid: 'a uid with spaces', type: 'loki', url: 'loki:3100' })))
      .toThrow("Grafana 'test/grafana' has 2 invalid props:\n  - datasource 'Loki' uid must be 1 to 40 letters, digits, '-' or '_', got 'a uid with spaces'\n  - datasource 'Loki' url must be an http:// or https:// URL, got 'loki:3100'");
  });

  test('provisions every dashboard of the folder, one ConfigMap each, a provider per Grafana folder', () => {
    // GIVEN a folder with a dashboard at the top and one in a subfolder
    // WHEN
    const objects = synthGrafana({
      dashboardsDirs: [path.join(FIXTURES, 'good')],
      additionalDatasources: [{ name: 'Loki', uid: 'loki', type: 'loki', url: 'http://loki:3100' }],
    });
    // THEN each dashboard has its ConfigMap, with `${DS_...}` resolved and `__inputs` gone
    const service = JSON.parse(configMapFile(objects, 'test-grafana-dashboard-team-a-service', 'service.json'));
    expect(service.__inputs).toBeUndefined();
    expect(service.panels[0].panels[0].datasource).toEqual({ type: 'prometheus', uid: 'prometheus' });
    expect(JSON.stringify(service)).not.toContain('${DS_');
    expect(JSON.parse(configMapFile(objects, 'test-grafana-dashboard-overview', 'overview.json')).uid).toBe('overview');
    // AND the subfolder becomes a Grafana folder; top-level files go to General
    const providers = parse(configMapFile(objects, 'test-grafana-dashboard-providers', 'dashboards.yaml'));
    expect(providers).toEqual({
      apiVersion: 1,
      providers: [
        { name: 'general', orgId: 1, folder: '', type: 'file', disableDeletion: false, updateIntervalSeconds: 30, allowUiUpdates: false, options: { path: '/etc/grafana/dashboards/general' } },
        { name: 'folder-team-a', orgId: 1, folder: 'team-a', folderUid: 'folder-team-a', type: 'file', disableDeletion: false, updateIntervalSeconds: 30, allowUiUpdates: false, options: { path: '/etc/grafana/dashboards/folders/team-a' } },
      ],
    });
    // AND each provider's path is a projected volume of its folder's ConfigMaps
    const spec = podSpec(objects);
    expect(spec.volumes).toContainEqual({ name: 'dashboards-team-a', projected: { sources: [{ configMap: { name: 'test-grafana-dashboard-team-a-service', items: [{ key: 'service.json', path: 'service.json' }] } }] } });
    expect(spec.volumes).toContainEqual({ name: 'dashboards', projected: { sources: [{ configMap: { name: 'test-grafana-dashboard-overview', items: [{ key: 'overview.json', path: 'overview.json' }] } }] } });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'dashboards-team-a', mountPath: '/etc/grafana/dashboards/folders/team-a', readOnly: true });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'dashboards', mountPath: '/etc/grafana/dashboards/general', readOnly: true });
  });

  test('provider settings follow the props', () => {
    // GIVEN / WHEN
    const objects = synthGrafana({ dashboardsDirs: [path.join(FIXTURES, 'good', 'team-a')], allowUiUpdates: true, disableDeletion: true, dashboardUpdateInterval: Duration.minutes(1) });
    // THEN
    const [provider] = parse(configMapFile(objects, 'test-grafana-dashboard-providers', 'dashboards.yaml')).providers;
    expect(provider).toMatchObject({ allowUiUpdates: true, disableDeletion: true, updateIntervalSeconds: 60 });
  });

  test('a changed dashboard rolls the pods', () => {
    // GIVEN a copy of a dashboards folder
    const dir = tempDir('grafana-dashboards');
    try {
      const file = path.join(dir, 'service.json');
      fs.copyFileSync(path.join(FIXTURES, 'good', 'team-a', 'service.json'), file);
      const before = checksum(synthGrafana({ dashboardsDirs: [dir] }));
      // WHEN the dashboard changes
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"Inside a collapsed row"', '"Renamed"'));
      // THEN the pod template changes
      expect(checksum(synthGrafana({ dashboardsDirs: [dir] }))).not.toEqual(before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('admin credentials come from the existing Secret, as files; no secret value in the output', () => {
    // GIVEN / WHEN
    const objects = synthGrafana({ adminUser: { name: 'test-grafana-admin', key: 'user' }, adminPassword: { name: 'test-grafana-admin', key: 'password' } });
    // THEN
    expect(env(objects)).toMatchObject({
      GF_SECURITY_ADMIN_USER__FILE: '/etc/grafana/secrets/admin/admin-user',
      GF_SECURITY_ADMIN_PASSWORD__FILE: '/etc/grafana/secrets/admin/admin-password',
    });
    expect(env(objects)).not.toHaveProperty('GF_SECURITY_ADMIN_PASSWORD');
    expect(podSpec(objects).volumes).toContainEqual({
      name: 'admin',
      secret: { secretName: 'test-grafana-admin', items: [{ key: 'password', path: 'admin-password' }, { key: 'user', path: 'admin-user' }] },
    });
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  test('anonymous access is off unless asked for, then read-only', () => {
    expect(env(synthGrafana())).toMatchObject({ GF_AUTH_ANONYMOUS_ENABLED: 'false' });
    expect(env(synthGrafana())).not.toHaveProperty('GF_AUTH_ANONYMOUS_ORG_ROLE');
    expect(env(synthGrafana({ anonymousAccess: true }))).toMatchObject({ GF_AUTH_ANONYMOUS_ENABLED: 'true', GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer' });
  });

  test('pods meet Pod Security "restricted", with resources and distinct probes', () => {
    // GIVEN / WHEN
    const objects = synthGrafana();
    const spec = podSpec(objects);
    const container = spec.containers[0];
    // THEN
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 472, runAsGroup: 472, fsGroup: 472, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 472, runAsGroup: 472, capabilities: { drop: ['ALL'] },
    });
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(container.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '500m', memory: '512Mi', 'ephemeral-storage': '1024Mi' } });
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/api/health', port: 3000 });
    expect(container.livenessProbe).not.toEqual(container.readinessProbe);
    // AND the writable paths are volumes, since the root filesystem is read-only
    expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/grafana' });
    expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(spec.volumes).toContainEqual({ name: 'data', emptyDir: {} });
    expect(container.image).toBe('grafana/grafana:11.6.5');
  });

  test('storageSize keeps the database on a PersistentVolumeClaim, replaced with Recreate', () => {
    // GIVEN / WHEN
    const objects = synthGrafana({ storageSize: Size.gibibytes(5), storageClassName: 'fast' });
    // THEN
    const claim = findObject(objects, 'PersistentVolumeClaim', 'test-grafana-data');
    expect(claim.spec).toMatchObject({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } }, storageClassName: 'fast' });
    expect(podSpec(objects).volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'test-grafana-data', readOnly: false } });
    // AND neither Argo CD nor Flux prunes or deletes it
    expect(claim.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' });
    expect(findObject(objects, 'Deployment', 'test-grafana').spec.strategy).toEqual({ type: 'Recreate' });
  });

  test('ClusterIP by default; NodePort where asked', () => {
    // GIVEN / WHEN
    const clusterIp = findObject(synthGrafana(), 'Service', 'test-grafana').spec;
    const nodePort = findObject(synthGrafana({ expose: ServiceExposure.nodePort(30040) }), 'Service', 'test-grafana').spec;
    // THEN
    expect(clusterIp.type).toBe('ClusterIP');
    expect(clusterIp.ports).toEqual([{ name: 'http', port: 80, targetPort: 3000 }]);
    expect(nodePort.type).toBe('NodePort');
    expect(nodePort.ports).toEqual([{ name: 'http', port: 80, targetPort: 3000, nodePort: 30040 }]);
  });

  test('exposes what callers wire to', () => {
    // GIVEN / WHEN
    const chart = new EnvironmentChart(testApp(), 'dev', { environment: { name: 'dev' } });
    const grafana = new Grafana(chart, 'grafana', grafanaProps(chart, { dashboardsDirs: [platformDashboardsDir()] }));
    // THEN
    expect(grafana.url).toBe('http://dev-grafana.platform-dev.svc:80');
    expect(grafana.port).toBe(80);
    expect(grafana.service.name).toBe('dev-grafana');
    expect(grafana.folders).toEqual(['kubernetes', 'platform']);
    expect(grafana.datasources.map((d) => d.uid)).toEqual(['prometheus']);
  });

  test('fails when props are invalid, listing each', () => {
    // GIVEN / WHEN
    const build = () => synthGrafana({
      image: 'grafana/grafana:latest',
      expose: ServiceExposure.nodePort(8080),
      prometheusScrapeInterval: Duration.millis(500),
      dashboardUpdateInterval: Duration.seconds(1),
      dashboardsDirs: ['/nonexistent/dashboards'],
      storageClassName: 'fast',
    });
    // THEN
    expect(build).toThrow([
      "Grafana 'test/grafana' has 6 invalid props:",
      '  - expose.nodePort must be an integer from 30000 to 32767, got 8080',
      "  - image must be an image pinned to a version (a tag other than 'latest', @sha256:<digest>, or both), got 'grafana/grafana:latest'",
      "  - prometheusScrapeInterval must be a Duration of at least 1 second, got '500ms'",
      "  - dashboardUpdateInterval must be whole seconds from 10s to 1h, got '1s'",
      "  - storageClassName must be set only together with storageSize, got 'fast'",
      "  - dashboardsDirs[0] must be an existing folder of dashboard JSON models, got '/nonexistent/dashboards'",
    ].join('\n'));
  });
});

describe('Grafana in each environment', () => {
  // The shipped charts, with Grafana wired to their Prometheus.
  const build = (name: string) => synthEnvironment(name);

  test.each(ENVIRONMENTS.map((e) => e.name))('%s provisions the datasource and every shipped dashboard', (name) => {
    // GIVEN / WHEN
    const objects = build(name);
    // THEN
    const provisioned = parse(configMapFile(objects, `${name}-grafana-datasources`, 'datasources.yaml')).datasources;
    expect(provisioned).toEqual([expect.objectContaining({ uid: 'prometheus', isDefault: true })]);
    const dashboards = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(`${name}-grafana-dashboard-`) && !o.metadata.name.endsWith('providers'));
    // Each brought by its system (addMonitoring): node-exporter, kube-state-metrics, Alertmanager, Prometheus, NGINX and the router, Redis.
    expect(dashboards.map((o) => o.metadata.name).sort()).toEqual([
      `${name}-grafana-dashboard-kubernetes-nodes`,
      `${name}-grafana-dashboard-kubernetes-pods`,
      `${name}-grafana-dashboard-platform-alertmanager`,
      `${name}-grafana-dashboard-platform-go-runtime`,
      `${name}-grafana-dashboard-platform-nginx-router`,
      `${name}-grafana-dashboard-platform-redis`,
    ]);
    const admin = findObject(objects, 'Deployment', `${name}-grafana`).spec.template.spec.volumes.find((v: { name: string }) => v.name === 'admin');
    expect(admin.secret.secretName).toBe(`${name}-grafana-admin`);
  });

  test('dev: NodePort 30040 and anonymous viewers; staging: ClusterIP, no anonymous access; prod: a 5Gi volume', () => {
    const dev = build('dev');
    expect(findObject(dev, 'Service', 'dev-grafana').spec).toMatchObject({ type: 'NodePort', ports: [expect.objectContaining({ nodePort: 30040 })] });
    expect(JSON.stringify(findObject(dev, 'Deployment', 'dev-grafana'))).toContain('"name":"GF_AUTH_ANONYMOUS_ENABLED","value":"true"');
    const staging = build('staging');
    expect(findObject(staging, 'Service', 'staging-grafana').spec.type).toBe('ClusterIP');
    expect(JSON.stringify(findObject(staging, 'Deployment', 'staging-grafana'))).toContain('"name":"GF_AUTH_ANONYMOUS_ENABLED","value":"false"');
    const prod = build('prod');
    expect(findObject(prod, 'PersistentVolumeClaim', 'prod-grafana-data').spec.resources.requests.storage).toBe('5Gi');
    expect(findObject(prod, 'Deployment', 'prod-grafana').spec.template.spec.containers[0].resources.limits).toEqual({ cpu: '1000m', memory: '1024Mi', 'ephemeral-storage': '1024Mi' });
  });
});
