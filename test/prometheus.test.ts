import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { parser as promql } from '@prometheus-io/lezer-promql';
import * as YAML from 'yaml';
import { EnvironmentChart, PlatformChart, markForScraping, ServiceExposure } from '../lib';
import { ENVIRONMENTS } from '../app/environments';
import { Construct } from 'constructs';
import { addMonitoring, alertmanagerRuleGroup, kubeStateMetricsRuleGroup, nginxRuleGroup, nodeExporterRuleGroup } from '../lib';
import { redisRuleGroup, routerRuleGroup, defaultRuleGroups, isAlertingRule, monitorGoService, parsePrometheusDuration, parsePrometheusSize, Prometheus, PrometheusProps, PrometheusStorage, relabelRegexProblem, RuleGroup, ScrapeConfig } from '../lib/prometheus';
import { configMapFile, findObject, K8sObject, synthEnvironment, synthWith, testApp, thrownMessage } from './support/synth';
import { restrictPod } from '../lib';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * A chart holding only a Prometheus (id `prometheus`) built from `props`, synthesized. A plain
 * Chart, since PlatformChart already has its own; named and namespaced as PlatformChart does.
 */
function synthPrometheus(props: PrometheusProps = {}, extra: (p: Prometheus) => void = () => undefined): K8sObject[] {
  const chart = new Chart(testApp(), 'test', { namespace: 'platform-test', disableResourceNameHashes: true });
  const prometheus = new Prometheus(chart, 'prometheus', props);
  // The router's and Redis's groups, as those constructs bring them (made after it: collected all the same).
  if (props.defaultRules !== false) addMonitoring(new Construct(chart, 'systems'), { ruleGroups: [routerRuleGroup(), redisRuleGroup()] });
  extra(prometheus);
  return Testing.synth(chart) as K8sObject[];
}

function prometheusConfig(objects: K8sObject[], name = 'test-prometheus'): Json {
  return YAML.parse(configMapFile(objects, name, 'prometheus.yml'));
}

function job(objects: K8sObject[], jobName: string): Json {
  return prometheusConfig(objects).scrape_configs.find((j: Json) => j.job_name === jobName);
}

function podSpec(objects: K8sObject[], name = 'test-prometheus'): Json {
  return findObject(objects, 'Deployment', name).spec.template.spec;
}

describe('Prometheus', () => {
  test('defaults', () => {
    // GIVEN a Prometheus with no props
    // WHEN it is synthesized
    const objects = synthPrometheus();
    // THEN it matches the reviewed snapshot
    expect(objects).toMatchSnapshot();
  });

  test('implements IPrometheusEndpoint: service, port and in-cluster url', () => {
    const prometheus = new PlatformChart(testApp(), 'dev', { environment: { name: 'dev' } }).prometheus!;
    expect(prometheus.service.name).toBe('dev-prometheus');
    expect(prometheus.port).toBe(9090);
    expect(prometheus.url).toBe('http://dev-prometheus.platform-dev.svc:9090');
  });

  describe('RBAC', () => {
    const objects = synthPrometheus();

    test('the ClusterRole grants node discovery, the kubelet metrics and GET /metrics, nothing more: no nodes/proxy', () => {
      const role = findObject(objects, 'ClusterRole', 'platform-test-test-prometheus');
      expect(role.rules).toEqual([
        { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] },
        { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
        { nonResourceURLs: ['/metrics'], verbs: ['get'] },
      ]);
    });

    test('pods, Services and EndpointSlices are read only where the jobs discover: its namespace, the scrape namespaces, default (API server)', () => {
      const rules = [
        { apiGroups: [''], resources: ['pods', 'services'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ];
      const shared = synthPrometheus({ scrapeNamespaces: ['team-a'] });
      const roles = shared.filter((o) => o.kind === 'Role').map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
      expect(roles).toEqual(['platform-test/test-prometheus', 'team-a/platform-test-test-prometheus', 'default/platform-test-test-prometheus']);
      for (const role of shared.filter((o) => o.kind === 'Role')) expect(role.rules).toEqual(rules);
      for (const binding of shared.filter((o) => o.kind === 'RoleBinding')) {
        expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'test-prometheus', namespace: 'platform-test' }]);
        expect(binding.roleRef.kind).toBe('Role');
      }
      for (const name of ['kubernetes-pods', 'kubernetes-service-endpoints']) {
        expect(job(shared, name).kubernetes_sd_configs[0].namespaces).toEqual({ names: ['platform-test', 'team-a'] });
      }
      expect(() => synthPrometheus({ scrapeNamespaces: ['Team_A'] })).toThrow("scrapeNamespaces[0] must be");
      expect(() => synthPrometheus({ scrapePorts: [9100, 0] })).toThrow("scrapePorts[1] must be");
    });

    test('the ClusterRole and its binding are cluster-scoped, named with the namespace first, and bind the service account', () => {
      const role = findObject(objects, 'ClusterRole', 'platform-test-test-prometheus');
      const binding = findObject(objects, 'ClusterRoleBinding', 'platform-test-test-prometheus');
      expect(role.metadata.namespace).toBeUndefined();
      expect(binding.metadata.namespace).toBeUndefined();
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'platform-test-test-prometheus' });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'test-prometheus', namespace: 'platform-test' }]);
      expect(podSpec(objects).serviceAccountName).toBe('test-prometheus');
      expect(podSpec(objects).automountServiceAccountToken).toBe(true);
    });

    test.each(ENVIRONMENTS.map((e) => e.name))('in %s, cluster-scoped names differ from every other environment, and only Prometheus and kube-state-metrics mount a token', (name) => {
      const objects = synthEnvironment(name);
      for (const kind of ['ClusterRole', 'ClusterRoleBinding']) {
        expect(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name)).toEqual([`platform-${name}-${name}-kube-state-metrics`, `platform-${name}-${name}-prometheus`]);
      }
      const withToken = objects.filter((o) => o.spec?.template?.spec && o.spec.template.spec.automountServiceAccountToken !== false).map((o) => `${o.kind}/${o.metadata.name}`);
      expect(withToken.sort()).toEqual([`Deployment/${name}-kube-state-metrics`, `Deployment/${name}-prometheus`]);
    });
  });

  describe('scrape config', () => {
    test('has the cluster jobs and itself, kube-state-metrics only when given', () => {
      const without = prometheusConfig(synthPrometheus());
      expect(without.scrape_configs.map((j: Json) => j.job_name)).toEqual([
        'kubernetes-apiservers', 'kubernetes-nodes', 'kubernetes-cadvisor', 'kubernetes-pods', 'kubernetes-service-endpoints', 'prometheus',
      ]);
      const withKsm = synthPrometheus({ kubeStateMetrics: { host: 'kube-state-metrics.kube-system.svc', port: 8080 } });
      expect(job(withKsm, 'kube-state-metrics')).toEqual({ job_name: 'kube-state-metrics', honor_labels: true, static_configs: [{ targets: ['kube-state-metrics.kube-system.svc:8080'] }] });
    });

    test('global intervals: defaults, and a timeout never above a short interval', () => {
      expect(prometheusConfig(synthPrometheus()).global).toEqual({ scrape_interval: '30s', scrape_timeout: '10s', evaluation_interval: '30s' });
      expect(prometheusConfig(synthPrometheus({ scrapeInterval: Duration.seconds(5) })).global).toEqual({ scrape_interval: '5s', scrape_timeout: '5s', evaluation_interval: '5s' });
    });

    test('the pods job keeps annotated, running pods, on the annotated port and path', () => {
      const pods = job(synthPrometheus(), 'kubernetes-pods');
      expect(pods.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['platform-test'] } }]);
      expect(pods.relabel_configs).toEqual(expect.arrayContaining([
        { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], action: 'keep', regex: 'true' },
        { source_labels: ['__meta_kubernetes_pod_phase'], action: 'keep', regex: 'Running' },
        { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'], action: 'replace', target_label: '__metrics_path__', regex: '(.+)' },
      ]));
    });

    test('the pods job rewrites the address to the annotated port: IPv6 in brackets, IPv4 bare', () => {
      // (run by the real Prometheus on an IPv6 pod in prometheus-promtool.test.ts)
      const rewrites = job(synthPrometheus(), 'kubernetes-pods').relabel_configs.filter((r: Json) => r.target_label === '__address__');
      expect(rewrites).toEqual([
        {
          source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_port', '__meta_kubernetes_pod_ip'],
          action: 'replace',
          regex: '(\\d+);(([A-Fa-f0-9]{1,4}::?){1,7}[A-Fa-f0-9]{1,4})',
          replacement: '[$2]:$1',
          target_label: '__address__',
        },
        {
          source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_port', '__meta_kubernetes_pod_ip'],
          action: 'replace',
          regex: '(\\d+);((([0-9]+?)(\\.|$)){4})',
          replacement: '$2:$1',
          target_label: '__address__',
        },
      ]);
    });

    test('the service-endpoints job keeps the discovered host (bracketed if IPv6) and puts the annotated port after it', () => {
      const rewrites = job(synthPrometheus(), 'kubernetes-service-endpoints').relabel_configs.filter((r: Json) => r.target_label === '__address__');
      expect(rewrites).toEqual([
        { source_labels: ['__address__', '__meta_kubernetes_service_annotation_prometheus_io_port'], action: 'replace', regex: '(.+?)(?::\\d+)?;(\\d+)', replacement: '$1:$2', target_label: '__address__' },
      ]);
    });

    test('markForScraping writes the annotations whose meta labels the pods job reads', () => {
      // GIVEN a workload marked for scraping
      const objects = synthWith((chart) => {
        const deployment = restrictPod(new kplus.Deployment(chart, 'api', { containers: [{ image: 'api:1', portNumber: 8080 }] }));
        markForScraping(deployment, { port: 8080, path: '/stats' });
      });
      const annotations = findObject(objects, 'Deployment', 'test-api').spec.template.metadata.annotations;
      // THEN each annotation, as Kubernetes discovery names it, is one the pods job reads
      const metaLabel = (key: string) => `__meta_kubernetes_pod_annotation_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`;
      const read = job(synthPrometheus(), 'kubernetes-pods').relabel_configs.flatMap((r: Json) => r.source_labels ?? []);
      expect(Object.keys(annotations).map(metaLabel).filter((label) => !read.includes(label))).toEqual([]);
      expect(annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/stats' });
    });

    test('the service-endpoints job discovers EndpointSlices', () => {
      expect(job(synthPrometheus(), 'kubernetes-service-endpoints').kubernetes_sd_configs).toEqual([{ role: 'endpointslice', namespaces: { names: ['platform-test'] } }]);
    });

    test('kubelet jobs scrape each kubelet directly over HTTPS with the service account token, not through the API server proxy', () => {
      for (const [name, path] of [['kubernetes-nodes', '/metrics'], ['kubernetes-cadvisor', '/metrics/cadvisor']]) {
        const kubelet = job(synthPrometheus(), name);
        expect(kubelet).toMatchObject({ scheme: 'https', metrics_path: path, kubernetes_sd_configs: [{ role: 'node' }] });
        expect(kubelet.authorization).toEqual({ credentials_file: '/var/run/secrets/kubernetes.io/serviceaccount/token' });
        expect(kubelet.tls_config).toEqual({ ca_file: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' });
        expect(JSON.stringify(kubelet.relabel_configs)).not.toContain('proxy');
      }
    });

    test('addScrapeJob and scrapeJobs add jobs to the config', () => {
      const extra: ScrapeConfig = { job_name: 'blackbox', static_configs: [{ targets: ['blackbox.monitoring.svc:9115'] }] };
      const objects = synthPrometheus({ scrapeJobs: [extra] }, (p) => p.addScrapeJob({ job_name: 'pushgateway', honor_labels: true, static_configs: [{ targets: ['pushgateway:9091'] }] }));
      expect(prometheusConfig(objects).scrape_configs.map((j: Json) => j.job_name).slice(-3)).toEqual(['prometheus', 'blackbox', 'pushgateway']);
    });
  });

  describe('rules', () => {
    test('each rule group is its own rule file beside prometheus.yml, found by rule_files', () => {
      const objects = synthPrometheus();
      const data = findObject(objects, 'ConfigMap', 'test-prometheus').data;
      expect(Object.keys(data).sort()).toEqual(['platform.rules.yml', 'prometheus.yml', 'redis.rules.yml', 'router.rules.yml']);
      expect(prometheusConfig(objects).rule_files).toEqual(['*.rules.yml']);
      const alerts = ['platform', 'router', 'redis'].flatMap((g) => YAML.parse(data[`${g}.rules.yml`]).groups[0].rules.filter((r: Json) => r.alert).map((r: Json) => r.alert));
      expect(alerts).toEqual([
        'TargetDown', 'PrometheusConfigReloadFailed', 'PrometheusRuleEvaluationFailures', 'PodCpuNearLimit',
        'RouterDecisionErrorsHigh', 'RouterDecisionLatencyHigh',
        'RedisDown', 'RedisRdbBgsaveFailed', 'RedisAofWriteFailed', 'RedisNoRecentSave', 'RedisMemoryNearMax',
      ]);
    });

    test('shipped rules parse as PromQL and read only the metrics of the cross-system contract', () => {
      // The names fixed in contract.md (dashboards and alerts use exactly these), Prometheus' own,
      // and what the groups record themselves.
      const contract = [
        'router_decisions_total', 'router_decision_errors_total', 'router_refusals_total', 'router_decision_duration_seconds_bucket',
        'redis_up', 'redis_memory_used_bytes', 'redis_memory_max_bytes', 'redis_rdb_last_bgsave_status', 'redis_aof_last_write_status',
        'redis_rdb_last_save_timestamp_seconds', 'redis_rdb_changes_since_last_save', 'redis_aof_enabled',
        'container_cpu_usage_seconds_total', 'container_spec_cpu_quota', 'container_spec_cpu_period',
        'up', 'prometheus_config_last_reload_successful', 'prometheus_rule_evaluation_failures_total',
        'nginx_up',
        'alertmanager_notifications_total', 'alertmanager_notifications_failed_total', 'alertmanager_config_last_reload_successful',
        'kube_pod_container_status_waiting_reason', 'kube_deployment_spec_replicas', 'kube_deployment_status_replicas_available',
        'node_filesystem_avail_bytes', 'node_filesystem_size_bytes', 'node_filesystem_readonly', 'node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes',
      ];
      // Every group a system of the stack brings.
      const shipped = [...defaultRuleGroups(), nginxRuleGroup(), alertmanagerRuleGroup(), kubeStateMetricsRuleGroup(), nodeExporterRuleGroup()];
      const rules = shipped.flatMap((g) => g.rules);
      const recorded = rules.flatMap((r) => (isAlertingRule(r) ? [] : [r.record]));
      const problems: string[] = [];
      const read = new Set<string>();
      for (const rule of rules) {
        promql.parse(rule.expr).iterate({
          enter: (node) => {
            if (node.type.isError) problems.push(`${rule.expr}: syntax error at ${node.from}`);
            const name = rule.expr.slice(node.from, node.to);
            if (node.name !== 'Identifier' || node.node.parent?.name !== 'VectorSelector') return;
            read.add(name);
            if (!contract.includes(name) && !recorded.includes(name)) problems.push(`${rule.expr}: reads ${name}`);
          },
        });
      }
      expect(problems).toEqual([]);
      // Every series named above is read by some rule, but the one only dashboards read.
      const dashboardsOnly = ['router_refusals_total'];
      expect([...read].sort()).toEqual([...new Set([...contract.filter((name) => !dashboardsOnly.includes(name)), ...recorded])].sort());
    });

    test('addRuleGroup adds a rule file; defaultRules: false leaves only the added groups', () => {
      const group: RuleGroup = { name: 'api', rules: [{ alert: 'ApiDown', expr: 'up{job="api"} == 0', for: '2m', labels: { severity: 'critical' } }] };
      const objects = synthPrometheus({ defaultRules: false }, (p) => p.addRuleGroup(group));
      const data = findObject(objects, 'ConfigMap', 'test-prometheus').data;
      expect(Object.keys(data).sort()).toEqual(['api.rules.yml', 'prometheus.yml']);
      expect(YAML.parse(data['api.rules.yml'])).toEqual({ groups: [group] });
    });

    test('YAML 1.1 quoting, as go-yaml v2 in Prometheus reads it: a label value `yes` stays a string', () => {
      const text = configMapFile(synthPrometheus({ externalLabels: { replica: 'yes', region: 'on' } }), 'test-prometheus', 'prometheus.yml');
      expect(text).toContain('    replica: "yes"\n    region: "on"\n');
    });

    test('rule and config files are plain YAML: no anchors, PromQL on one line, a do-not-edit header', () => {
      const data = findObject(synthPrometheus(), 'ConfigMap', 'test-prometheus').data;
      expect(data['prometheus.yml']).not.toMatch(/[&*]a\d/);
      expect(data['prometheus.yml'].startsWith('# Generated by cdk8s-platform-stack')).toBe(true);
      expect(data['router.rules.yml']).toContain('expr: histogram_quantile(0.99, sum by (namespace, le) (rate(router_decision_duration_seconds_bucket[5m])))\n');
    });
  });

  describe('workload', () => {
    const objects = synthPrometheus();
    const spec = podSpec(objects);
    const container = spec.containers[0];

    test('pinned official image, retention flag, config from the ConfigMap', () => {
      expect(container.image).toBe('quay.io/prometheus/prometheus:v3.16.0');
      expect(container.args).toEqual(['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus', '--storage.tsdb.retention.time=15d', '--web.listen-address=:9090']);
      expect(container.volumeMounts).toEqual([{ mountPath: '/etc/prometheus', name: 'config', readOnly: true }, { mountPath: '/prometheus', name: 'data' }]);
    });

    test('restricted: non-root 65534, read-only root, no escalation, all capabilities dropped, RuntimeDefault seccomp', () => {
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } });
      expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] } });
    });

    test('readiness on /-/ready and a more patient liveness on /-/healthy; requests and limits', () => {
      expect(container.readinessProbe.httpGet.path).toBe('/-/ready');
      expect(container.livenessProbe.httpGet.path).toBe('/-/healthy');
      expect(container.livenessProbe.failureThreshold * container.livenessProbe.periodSeconds).toBeGreaterThan(container.readinessProbe.failureThreshold * container.readinessProbe.periodSeconds);
      expect(Object.keys(container.resources.requests).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory']);
      expect(Object.keys(container.resources.limits).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory']);
    });

    test('ephemeral storage covers the TSDB on an emptyDir (its sizeLimit plus 256Mi, 8Gi unbounded), only the logs on a PVC; each part overridable', () => {
      const storage = (props: PrometheusProps) => podSpec(synthPrometheus(props)).containers[0].resources;
      expect(container.resources.requests['ephemeral-storage']).toBe('1024Mi');
      expect(container.resources.limits['ephemeral-storage']).toBe('8192Mi');
      expect(storage({ storage: PrometheusStorage.emptyDir({ sizeLimit: Size.gibibytes(2) }) }).limits['ephemeral-storage']).toBe('2304Mi');
      expect(storage({ storage: PrometheusStorage.persistentVolumeClaim({ size: Size.gibibytes(10) }) }).limits['ephemeral-storage']).toBe('256Mi');
      const overridden = storage({ resources: { ephemeralStorage: { limit: Size.gibibytes(20) } } });
      expect([overridden.requests['ephemeral-storage'], overridden.limits['ephemeral-storage']]).toEqual(['1024Mi', '20480Mi']);
    });

    test('one replica, recreated: one TSDB has one writer', () => {
      const deployment = findObject(objects, 'Deployment', 'test-prometheus');
      expect(deployment.spec.replicas).toBe(1);
      expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    });

    test('a config or rule change rolls the pod; the same input gives the same checksum', () => {
      const checksum = (o: K8sObject[]) => findObject(o, 'Deployment', 'test-prometheus').spec.template.metadata.annotations['checksum/config'];
      const base = checksum(synthPrometheus());
      expect(checksum(synthPrometheus())).toBe(base);
      expect(checksum(synthPrometheus({ scrapeInterval: Duration.seconds(15) }))).not.toBe(base);
      expect(checksum(synthPrometheus({}, (p) => p.addRuleGroup({ name: 'extra', rules: [{ record: 'x:up:sum', expr: 'sum(up)' }] })))).not.toBe(base);
      expect(checksum(synthPrometheus({}, (p) => p.addScrapeJob({ job_name: 'x', static_configs: [{ targets: ['x:1'] }] })))).not.toBe(base);
    });
  });

  describe('storage', () => {
    test('emptyDir by default, no retention size', () => {
      const objects = synthPrometheus();
      expect(podSpec(objects).volumes).toContainEqual({ name: 'data', emptyDir: {} });
      expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim')).toEqual([]);
    });

    test('a PersistentVolumeClaim with size and class; retention size defaults to 85% of it', () => {
      const objects = synthPrometheus({ storage: PrometheusStorage.persistentVolumeClaim({ size: Size.gibibytes(50), storageClassName: 'ebs.gp3' }), retention: Duration.days(30) });
      const claim = findObject(objects, 'PersistentVolumeClaim', 'test-prometheus');
      expect(claim.spec).toMatchObject({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '50Gi' } }, storageClassName: 'ebs.gp3' });
      // Neither Argo CD nor Flux prunes or deletes the TSDB's claim
      expect(claim.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' });
      expect(podSpec(objects).volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'test-prometheus', readOnly: false } });
      expect(podSpec(objects).containers[0].args).toEqual(expect.arrayContaining(['--storage.tsdb.retention.time=30d', '--storage.tsdb.retention.size=43520MB']));
    });

    test('an explicit retention size wins', () => {
      const objects = synthPrometheus({ storage: PrometheusStorage.persistentVolumeClaim({ size: Size.gibibytes(50) }), retentionSize: Size.gibibytes(40) });
      expect(podSpec(objects).containers[0].args).toContain('--storage.tsdb.retention.size=40GB');
    });
  });

  describe('service', () => {
    test('ClusterIP by default; NodePort when asked', () => {
      expect(findObject(synthPrometheus(), 'Service', 'test-prometheus').spec).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'http', port: 9090, targetPort: 9090 }] });
      expect(findObject(synthPrometheus({ expose: ServiceExposure.nodePort(30030) }), 'Service', 'test-prometheus').spec).toMatchObject({ type: 'NodePort', ports: [{ port: 9090, nodePort: 30030 }] });
    });

    test.each([['dev', 'NodePort'], ['staging', 'ClusterIP'], ['prod', 'ClusterIP']])('in %s the Service is %s', (name, type) => {
      const service = findObject(synthEnvironment(name), 'Service', `${name}-prometheus`);
      expect(service.spec.type).toBe(type);
      if (type === 'NodePort') expect(service.spec.ports[0].nodePort).toBe(30030);
    });
  });

  describe('environments', () => {
    test.each([
      // dev too (issue 15: its "/ limit" panels were empty without kube-state-metrics).
      ['dev', '15s', 'emptyDir', true],
      ['staging', '30s', 'persistentVolumeClaim', true],
      ['prod', '30s', 'persistentVolumeClaim', true],
    ])('%s scrapes every %s, keeps its TSDB on %s, kube-state-metrics job %s', (name, interval, volumeKind, ksm) => {
      const objects = synthEnvironment(name);
      const config = prometheusConfig(objects, `${name}-prometheus`);
      expect(config.global.scrape_interval).toBe(interval);
      expect(config.global.external_labels).toEqual({ environment: name });
      expect(podSpec(objects, `${name}-prometheus`).volumes.find((v: Json) => v.name === 'data')).toHaveProperty(volumeKind);
      expect(config.scrape_configs.some((j: Json) => j.job_name === 'kube-state-metrics')).toBe(ksm);
    });
  });

  describe('prometheus-operator output', () => {
    test('a PrometheusRule with the same groups as the rule files, and a ServiceMonitor selecting the Service', () => {
      const objects = synthPrometheus({ prometheusOperator: true, prometheusOperatorLabels: { release: 'kube-prometheus-stack' } }, (p) => p.addRuleGroup({ name: 'late', rules: [{ alert: 'Late', expr: 'vector(1)', keep_firing_for: '5m' }] }));
      const rule = findObject(objects, 'PrometheusRule', 'test-prometheus');
      const files = findObject(objects, 'ConfigMap', 'test-prometheus').data;
      const fileGroups = ['platform', 'router', 'redis', 'late'].map((g) => YAML.parse(files[`${g}.rules.yml`]).groups[0]);
      expect(rule.spec.groups).toEqual(fileGroups);
      expect(rule.metadata.labels?.release).toBe('kube-prometheus-stack');
      const monitor = findObject(objects, 'ServiceMonitor', 'test-prometheus');
      const service = findObject(objects, 'Service', 'test-prometheus');
      for (const [key, value] of Object.entries<string>(monitor.spec.selector.matchLabels)) expect(service.metadata.labels?.[key]).toBe(value);
      expect(monitor.spec.endpoints).toEqual([{ port: service.spec.ports[0].name, path: '/metrics' }]);
    });

    test('off by default', () => {
      expect(synthPrometheus().filter((o) => o.apiVersion.startsWith('monitoring.coreos.com'))).toEqual([]);
    });
  });

  describe('fails when', () => {
    test.each<[string, PrometheusProps, string]>([
      ['scrapeInterval is a fraction of a millisecond', { scrapeInterval: Duration.millis(0.5) }, "scrapeInterval must be a Duration of whole milliseconds, greater than 0, got '0.5 millis'"],
      ['scrapeInterval is 0', { scrapeInterval: Duration.seconds(0) }, "scrapeInterval must be a Duration of whole milliseconds, greater than 0, got '0s'"],
      ['scrapeTimeout exceeds scrapeInterval', { scrapeInterval: Duration.seconds(15), scrapeTimeout: Duration.seconds(20) }, "scrapeTimeout must be at most scrapeInterval (15s), got '20s'"],
      ['evaluationInterval is 0', { evaluationInterval: Duration.millis(0) }, "evaluationInterval must be a Duration of whole milliseconds, greater than 0, got '0s'"],
      ['retention is 0', { retention: Duration.days(0) }, "retention must be a Duration of whole milliseconds, greater than 0, got '0s'"],
      ['retentionSize is not whole bytes', { retentionSize: Size.kibibytes(0.0001) }, 'retentionSize must be a whole number of bytes, greater than 0'],
      ['retentionSize exceeds the volume', { storage: PrometheusStorage.persistentVolumeClaim({ size: Size.gibibytes(10) }), retentionSize: Size.gibibytes(20) }, "retentionSize must be at most the storage size (10GiB), got '20Gi'"],
      ['storageClassName is not a DNS subdomain', { storage: PrometheusStorage.persistentVolumeClaim({ size: Size.gibibytes(10), storageClassName: 'Fast_SSD' }) }, "storage.storageClassName must be a StorageClass name (a DNS subdomain: lower-case letters, digits, '-' and '.'), got 'Fast_SSD'"],
      ['nodePort is outside 30000-32767', { expose: ServiceExposure.nodePort(8080) }, 'expose.nodePort must be an integer from 30000 to 32767, got 8080'],
      ['the image is latest', { image: 'quay.io/prometheus/prometheus:latest' }, "image must be an image pinned to a version (a tag other than 'latest', @sha256:<digest>, or both), got 'quay.io/prometheus/prometheus:latest'"],
      ['the image has no tag', { image: 'quay.io/prometheus/prometheus' }, "image must be an image pinned to a version (a tag other than 'latest', @sha256:<digest>, or both), got 'quay.io/prometheus/prometheus'"],
      ['the image has a registry port but no tag', { image: 'registry.local:5000/prometheus' }, "got 'registry.local:5000/prometheus'"],
      ['kubeStateMetrics host is a URL', { kubeStateMetrics: { host: 'http://ksm', port: 8080 } }, "kubeStateMetrics.static_configs[0].targets[0] must be host:port with a port from 1 to 65535 (no scheme, no path), got 'http://ksm:8080'"],
      ['a scrape job reuses a default job name', { scrapeJobs: [{ job_name: 'kubernetes-pods', static_configs: [{ targets: ['x:1'] }] }] }, "scrapeJobs[].job_name (including the default jobs) must be unique, got 'kubernetes-pods'"],
      ['a relabel regex does not compile', { scrapeJobs: [{ job_name: 'x', static_configs: [{ targets: ['x:1'] }], relabel_configs: [{ source_labels: ['a'], regex: '(foo', action: 'keep' }] }] }, "scrapeJobs[0].relabel_configs[0].regex must be a regular expression that compiles (RE2 syntax, anchored by Prometheus as ^(?:...)$)"],
      ['a relabel regex uses lookahead, which RE2 lacks', { scrapeJobs: [{ job_name: 'x', static_configs: [{ targets: ['x:1'] }], relabel_configs: [{ source_labels: ['a'], regex: 'foo(?!bar)', action: 'drop' }] }] }, "scrapeJobs[0].relabel_configs[0].regex must be a regular expression without lookahead or lookbehind (RE2 has neither), got 'foo(?!bar)'"],
      ['a replace rule has no target_label', { scrapeJobs: [{ job_name: 'x', static_configs: [{ targets: ['x:1'] }], relabel_configs: [{ source_labels: ['a'], action: 'replace' }] }] }, 'scrapeJobs[0].relabel_configs[0].target_label must be set: action replace writes it, got undefined'],
      ['a relabel action is unknown', { scrapeJobs: [{ job_name: 'x', static_configs: [{ targets: ['x:1'] }], relabel_configs: [{ source_labels: ['a'], action: 'keepif' as 'keep' }] }] }, "scrapeJobs[0].relabel_configs[0].action must be one of replace|keep|drop|keepequal|dropequal|hashmod|labelmap|labeldrop|labelkeep|lowercase|uppercase, got 'keepif'"],
      ['a job has no targets', { scrapeJobs: [{ job_name: 'empty' }] }, "scrapeJobs[0] must be a job with kubernetes_sd_configs or static_configs (it has no targets), got 'empty'"],
      ['a job timeout exceeds its own interval', { scrapeJobs: [{ job_name: 'slow', scrape_interval: '5s', static_configs: [{ targets: ['x:1'] }] }] }, "scrapeJobs[0].scrape_timeout must be at most the job's scrape interval (5s), got '10s (inherited)'"],
      ['a rule group reuses the name of a group a system brings', { ruleGroups: [{ name: 'redis', rules: [{ record: 'a:b:c', expr: 'up' }] }] }, "the rule group 'redis' of 'test/systems' must have a name of its own, got one a different group already has (groups: redis, platform, router)"],
      ['a recording rule name is not a metric name', { ruleGroups: [{ name: 'g', rules: [{ record: 'my-rule', expr: 'up' }] }] }, "ruleGroups[0].rules[0].record must be a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*, got 'my-rule'"],
      ['an alert has a bad for', { ruleGroups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up == 0', for: '5 minutes' }] }] }, "ruleGroups[0].rules[0].for must be a Prometheus duration such as 30s, 5m, 1h30m or 15d (units y w d h m s ms, largest first), got '5 minutes'"],
    ])('%s', (_, props, message) => {
      const error = thrownMessage(() => synthPrometheus(props));
      expect(error).toContain("Prometheus 'test/prometheus'");
      expect(error).toContain(message);
    });

    test('several props are bad: one error lists them all', () => {
      const error = thrownMessage(() => synthPrometheus({ evaluationInterval: Duration.seconds(0), retention: Duration.seconds(0), expose: ServiceExposure.nodePort(80) }));
      expect(error).toMatch(/^Prometheus 'test\/prometheus' has 3 invalid props:\n {2}- expose.nodePort must be an integer from 30000 to 32767, got 80\n {2}- evaluationInterval must be .*\n {2}- retention must be .*$/);
    });

    test('addScrapeJob adds a job name already taken', () => {
      const error = thrownMessage(() => synthPrometheus({}, (p) => p.addScrapeJob({ job_name: 'prometheus', static_configs: [{ targets: ['x:1'] }] })));
      expect(error).toBe("Prometheus 'test/prometheus': addScrapeJob(\"prometheus\").job_name must be unique (jobs: kubernetes-apiservers, kubernetes-nodes, kubernetes-cadvisor, kubernetes-pods, kubernetes-service-endpoints, prometheus), got 'prometheus'");
    });

    test('addRuleGroup adds a group without rules', () => {
      const error = thrownMessage(() => synthPrometheus({}, (p) => p.addRuleGroup({ name: 'empty', rules: [] })));
      expect(error).toBe('Prometheus \'test/prometheus\': addRuleGroup("empty").rules must be not empty, got []');
    });
  });
});

describe('Prometheus syntax checks', () => {
  test.each([['30s', 30_000], ['1h30m', 5_400_000], ['15d', 1_296_000_000], ['2w', 1_209_600_000], ['500ms', 500], ['0', 0]])('duration %s is %d ms', (value, ms) => {
    expect(parsePrometheusDuration(value)).toBe(ms);
  });
  test.each(['', '30', '1.5h', '30s1m', '-5m', '5 m', '1M'])('duration %p is refused', (value) => expect(parsePrometheusDuration(value)).toBeUndefined());
  test.each([['512MB', 512 * 1024 ** 2], ['40GB', 40 * 1024 ** 3], ['1TiB', 1024 ** 4], ['100B', 100]])('size %s is %d bytes', (value, bytes) => expect(parsePrometheusSize(value)).toBe(bytes));
  test.each(['40G', '40 GB', '1.5GB', 'GB', '40gb'])('size %p is refused', (value) => expect(parsePrometheusSize(value)).toBeUndefined());
  test.each(['(.+)', 'default;kubernetes;https', '(?i)running', '(?P<port>\\d+)', '__meta_kubernetes_pod_label_(.+)'])('regex %p compiles as RE2 would', (regex) => expect(relabelRegexProblem(regex)).toBeUndefined());
  test.each(['(foo', 'a(?=b)', '(?<!x)y', '(a)\\1', '[z-a]'])('regex %p is refused', (regex) => expect(relabelRegexProblem(regex)).toBeDefined());
});

describe('markForScraping', () => {
  test('fails when a workload is marked again with another port', () => {
    const error = thrownMessage(() => synthWith((chart) => {
      const deployment = restrictPod(new kplus.Deployment(chart, 'api', { containers: [{ image: 'api:1', ports: [{ number: 8080 }, { number: 9100 }] }] }));
      markForScraping(deployment, { port: 8080 });
      markForScraping(deployment, { port: 9100 });
    }));
    expect(error).toBe("markForScraping 'test/api': port and path must be the ones the workload is already marked with (8080/metrics): a pod is scraped on one port, got '9100/metrics'");
  });

  test('fails when the port or path is bad', () => {
    const error = thrownMessage(() => synthWith((chart) => {
      markForScraping(restrictPod(new kplus.Deployment(chart, 'api', { containers: [{ image: 'api:1' }] })), { port: 0, path: 'metrics' });
    }));
    expect(error).toContain("markForScraping 'test/api' has 2 invalid props");
    expect(error).toContain('port must be an integer from 1 to 65535, got 0');
    expect(error).toContain("path must be an absolute HTTP path starting with /, got 'metrics'");
  });
});

describe('monitorGoService', () => {
  const goService = (chart: EnvironmentChart) => restrictPod(new kplus.Deployment(chart, 'api', { containers: [{ name: 'api', image: 'api:1', ports: [{ number: 8080, name: 'http' }] }] }));

  test('marks the pods for scraping and declares a private pprof port for kubectl port-forward', () => {
    let command = '';
    const objects = synthWith((chart) => {
      command = monitorGoService(goService(chart), { metricsPort: 8080 }).portForwardCommand;
    });
    const template = findObject(objects, 'Deployment', 'test-api').spec.template;
    expect(template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/metrics' });
    expect(template.spec.containers[0].ports).toEqual([{ containerPort: 8080, name: 'http' }, { containerPort: 6060, name: 'pprof' }]);
    expect(command).toBe('kubectl -n platform-test port-forward deployment/test-api 6060:6060');
  });

  test('a Service on the other ports is fine', () => {
    const objects = synthWith((chart) => {
      const deployment = goService(chart);
      monitorGoService(deployment, { metricsPort: 8080 });
      deployment.exposeViaService({ ports: [{ port: 80, targetPort: 8080 }], serviceType: kplus.ServiceType.NODE_PORT });
    });
    expect(findObject(objects, 'Service', 'test-api-service').spec.ports).toEqual([{ port: 80, targetPort: 8080 }]);
  });

  test.each<[string, (d: kplus.Deployment) => void]>([
    ['a NodePort Service exposes the pprof port', (d) => d.exposeViaService({ ports: [{ port: 6060, targetPort: 6060 }], serviceType: kplus.ServiceType.NODE_PORT })],
    ['a Service takes every container port (pprof included)', (d) => d.exposeViaService({ serviceType: kplus.ServiceType.LOAD_BALANCER })],
  ])('fails when %s', (_, expose) => {
    const error = thrownMessage(() => synthWith((chart) => {
      const deployment = goService(chart);
      monitorGoService(deployment, { metricsPort: 8080 });
      expose(deployment);
    }));
    expect(error).toMatch(/\[test\/api\] pprof port 6060 is exposed by (NodePort|LoadBalancer) Service 'test-api-service' \(port 6060\): pprof must only be reached with kubectl port-forward/);
  });

  test('fails when pprof shares the metrics port', () => {
    const error = thrownMessage(() => synthWith((chart) => monitorGoService(goService(chart), { metricsPort: 6060, pprofPort: 6060 })));
    expect(error).toBe("monitorGoService 'test/api': pprofPort must be a port other than metricsPort (6060): Prometheus reaches the metrics port from the whole cluster, got 6060");
  });
});
