import { spawnSync } from 'child_process';
import * as path from 'path';
import * as kplus from 'cdk8s-plus-27';
import { allowConnection, allowEgress, allowEgressToAnywhere, allowIngress, allowMetricsScrapers, allowScraperEgress, METRICS_SCRAPER_LABEL, restrictPod } from '../lib';
import { synthEnvironment, synthWith } from './support/synth';
import { pictureBlock, readmeBlock, stalePictures, toMermaid, Wiring, wiringOf, withReadmeBlock } from './support/wiring';

const ROOT = path.join(__dirname, '..');

/** The edges as `<from> <arrow> <to>: <label>`, the workloads' ids without their `w_<namespace>_<chart>_` prefix. */
function edges(wiring: Wiring, prefix: RegExp = /^$/): string[] {
  const arrow = { connection: '-->', exposure: '==>', scrape: '-.->' };
  const short = (id: string) => id.replace(prefix, '');
  return wiring.edges.map((e) => `${short(e.from)} ${arrow[e.kind]} ${short(e.to)}: ${e.label}`).sort();
}

// The subset of Mermaid's flowchart syntax toMermaid writes (checked against mermaid's own parser
// when it was written): one statement per line, ids of letters, digits and `_`, every label quoted.
const ID = '[A-Za-z][A-Za-z0-9_]*';
const LABEL = '"[^"<>#]*(?:(?:<br/>|#\\d+;)[^"<>#]*)*"';
const STATEMENTS = [
  /^flowchart LR$/,
  new RegExp(`^  subgraph (${ID})\\[${LABEL}\\]$`),
  /^ {2}end$/,
  new RegExp(`^ {2,4}(${ID})(?:\\[${LABEL}\\]|\\(\\(${LABEL}\\)\\)|\\{\\{${LABEL}\\}\\})$`),
  new RegExp(`^  (${ID}) (?:-->|==>|-\\.->)\\|${LABEL}\\| (${ID})$`),
  /^ {2}classDef outside stroke-dasharray: 4 4$/,
  new RegExp(`^  class (${ID}(?:,${ID})*) outside$`),
  /^ {2}linkStyle \d+(?:,\d+)* stroke:#[0-9a-f]{6}(?:,stroke-dasharray:4 4)?$/,
];
const KEYWORDS = new Set(['end', 'subgraph', 'graph', 'flowchart', 'class', 'classDef', 'style', 'linkStyle', 'click', 'direction']);

/** What in `text` is outside that subset, or refers to an undeclared node (none: it parses). */
function mermaidProblems(text: string): string[] {
  const problems: string[] = [];
  const declared = new Set<string>();
  let depth = 0;
  text.trimEnd().split('\n').forEach((line, i) => {
    const statement = STATEMENTS.findIndex((s) => s.test(line));
    if (statement < 0) return problems.push(`line ${i + 1} is not in the subset: ${line}`);
    const ids = [...(line.match(STATEMENTS[statement])!.slice(1).join(',').matchAll(new RegExp(ID, 'g')))].map((m) => m[0]);
    if (statement === 1) depth += 1;
    if (statement === 2) depth -= 1;
    if (statement === 1 || statement === 3) ids.forEach((id) => declared.add(id));
    if (statement === 4 || statement === 6) problems.push(...ids.filter((id) => !declared.has(id)).map((id) => `line ${i + 1} uses ${id} before declaring it`));
    problems.push(...ids.filter((id) => KEYWORDS.has(id) || /^[ox]/.test(id)).map((id) => `line ${i + 1}: ${id} is a keyword or starts an edge end (o, x)`));
    if (depth < 0 || depth > 1) problems.push(`line ${i + 1}: subgraph/end unbalanced`);
    return undefined;
  });
  if (depth !== 0) problems.push('a subgraph is not closed');
  return problems;
}

describe("the READMEs' wiring pictures", () => {
  test('match the code: each environment in README.md, the example team app in its README (else: run npm run pictures)', () => {
    // The script's own check: the same synthesis and drawing as `npm run pictures`, writing nothing.
    const check = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'pictures.js'), '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
  }, 60_000);

  test('a picture that differs, or has no markers, is named with what to do', () => {
    const block = pictureBlock('dev', 'flowchart LR\n');
    const readme = `# x\n\n${pictureBlock('dev', 'flowchart TB\n')}\n\nmore\n`;
    expect(stalePictures(new Map([['README.md', readme]]), [{ readme: 'README.md', key: 'dev', block }])).toEqual([
      'README.md: the wiring picture of dev differs from the code: run `npm run pictures` and commit README.md',
    ]);
    expect(stalePictures(new Map([['README.md', '# x\n']]), [{ readme: 'README.md', key: 'dev', block }])).toEqual([
      'README.md: the wiring picture of dev has no <!-- wiring:dev:start --> ... <!-- wiring:dev:end --> markers: add them where the picture goes, then run `npm run pictures` and commit README.md',
    ]);
    // Writing replaces only the block, and then it matches.
    const written = withReadmeBlock(readme, 'dev', block);
    expect(written).toBe(`# x\n\n${block}\n\nmore\n`);
    expect(readmeBlock(written, 'dev')).toBe(block);
    expect(() => withReadmeBlock('# x\n', 'dev', block)).toThrow(/no <!-- wiring:dev:start --> \.\.\. <!-- wiring:dev:end --> markers/);
  });
});

describe('the wiring of an environment, from its NetworkPolicies', () => {
  test('dev: the wired connections, the NodePorts, the scrapes, and nothing else', () => {
    expect(edges(wiringOf(synthEnvironment('dev')), /w_platform_dev_dev_/g)).toEqual([
      // Alertmanager posts to its receivers (HTTPS); kube-state-metrics watches the API server.
      'alertmanager --> anywhere_out: 443',
      'anywhere_in ==> grafana: NodePort 30040 → 3000',
      'anywhere_in ==> nginx: NodePort 30080 → 8080',
      'anywhere_in ==> prometheus: NodePort 30030 → 9090',
      'grafana --> prometheus: 9090',
      'kube_state_metrics --> anywhere_out: 443, 6443',
      'nginx --> example_backends: 8080, 8081',
      'nginx --> router: 8080',
      // nginx's 8080 is open to anyone, but Prometheus's egress reaches nginx on its metrics port only: no `prometheus --> nginx: 8080`.
      // 9100: node-exporter shares each node's network, so its targets are node addresses (as the kubelets').
      'prometheus --> anywhere_out: 443, 6443, 9100, 10250',
      'prometheus --> kube_state_metrics: 8080',
      'prometheus --> w_platform_dev_node_exporter_dev_node_exporter: 9100',
      'prometheus -.-> alertmanager: scrapes 9093',
      'prometheus -.-> grafana: scrapes 3000',
      'prometheus -.-> nginx: scrapes 9113',
      'prometheus -.-> redis: scrapes 9121',
      'prometheus -.-> router: scrapes 8080',
      'router --> redis: 6379',
    ]);
  });

  test("prod: Grafana through the ingress controller's namespace only, its own kube-state-metrics, no NodePort", () => {
    const prod = edges(wiringOf(synthEnvironment('prod')), /w_platform_prod_prod_/g);
    expect(prod).toEqual(expect.arrayContaining([
      'any_ingress_nginx_in ==> grafana: 3000',
      'anywhere_in ==> nginx: 8080',
      'prometheus --> kube_state_metrics: 8080',
    ]));
    expect(prod.filter((e) => /NodePort|anywhere_in ==> (grafana|prometheus)/.test(e))).toEqual([]);
  });

  test('every workload is a node of its namespace, labelled with its kind and ports; outside nodes only where an edge needs them', () => {
    const wiring = wiringOf(synthEnvironment('dev'));
    expect(wiring.nodes.find((n) => n.id === 'w_platform_dev_dev_redis')).toEqual({ id: 'w_platform_dev_dev_redis', kind: 'workload', namespace: 'platform-dev', lines: ['dev-redis', 'StatefulSet', '6379 redis · 9121 metrics'] });
    expect(wiring.nodes.filter((n) => !n.namespace).map((n) => n.id)).toEqual(['anywhere_in', 'anywhere_out']);
    const ids = new Set(wiring.nodes.map((n) => n.id));
    expect(wiring.edges.flatMap((e) => [e.from, e.to]).filter((id) => !ids.has(id))).toEqual([]);
  });
});

describe('the wiring of a chart built here', () => {
  const deployment = (scope: kplus.Deployment['node']['scope'], id: string, port: number) =>
    restrictPod(new kplus.Deployment(scope as never, id, { containers: [{ image: 'example:1', portNumber: port }] }));

  test('a NodePort the NetworkPolicies do not admit is drawn, and says so; a connection is drawn only where both sides allow it', () => {
    const objects = synthWith((chart) => {
      const api = deployment(chart, 'api', 8080);
      const cache = deployment(chart, 'cache', 6379);
      const stray = deployment(chart, 'stray', 9000);
      allowConnection(api, cache, [6379]);
      new kplus.Service(chart, 'api-service', { selector: api, type: kplus.ServiceType.NODE_PORT, ports: [{ port: 80, targetPort: 8080, nodePort: 30111 }] });
      allowConnection(stray, api, [8080]);
      // stray may send to the cache, but the cache admits only api: no edge.
      allowEgress(stray, 'cache', cache, [6379]);
    });
    expect(edges(wiringOf(objects), /w_platform_test_test_/g)).toEqual([
      'anywhere_in ==> api: NodePort 30111 → 8080, denied by the NetworkPolicies',
      'api --> cache: 6379',
      'stray --> api: 8080',
    ]);
  });

  test("egress to anywhere on every port is one edge, and another namespace's pods are drawn as their own node", () => {
    const objects = synthWith((chart) => {
      const fetcher = deployment(chart, 'fetcher', 8080);
      allowEgressToAnywhere(fetcher);
      const web = deployment(chart, 'web', 3000);
      allowIngress(web, 'edge', () => kplus.Pods.all(web, 'edge-pods', { namespaces: kplus.Namespaces.select(web, 'edge-ns', { names: ['edge'] }) }), [3000]);
    });
    expect(edges(wiringOf(objects), /w_platform_test_test_/g)).toEqual([
      'any_edge_in ==> web: 3000',
      'fetcher --> anywhere_out: every port',
      // fetcher reaches every pod, and web admits pods of namespace edge only.
    ]);
  });

  test('a scraper reaches the annotated metrics port: a dotted edge, also where no container declares the port', () => {
    const objects = synthWith((chart) => {
      // Annotated by hand (markForScraping refuses a port no container declares).
      const app = deployment(chart, 'app', 8080);
      app.podMetadata.addAnnotation('prometheus.io/scrape', 'true');
      app.podMetadata.addAnnotation('prometheus.io/port', '9100');
      allowMetricsScrapers(app, 9100);
      const scraper = deployment(chart, 'scraper', 9090);
      scraper.podMetadata.addLabel(METRICS_SCRAPER_LABEL, 'true');
      allowScraperEgress(scraper, ['platform-test']);
    });
    expect(edges(wiringOf(objects), /w_platform_test_test_/g)).toEqual([
      'scraper --> anywhere_out: 443, 6443, 10250',
      'scraper -.-> app: scrapes 9100',
    ]);
  });

  test('the Mermaid text stays in the subset that parses, whatever the names hold', () => {
    const wiring: Wiring = {
      nodes: [
        { id: 'w_a', kind: 'workload', namespace: 'team-a', lines: ['a "quoted" <b> #1', 'Deployment'] },
        { id: 'anywhere_in', kind: 'anywhere', lines: ['anywhere'] },
        { id: 'any_edge_out', kind: 'namespace', lines: ['any pod of namespace edge'] },
      ],
      edges: [
        { from: 'anywhere_in', to: 'w_a', kind: 'exposure', label: 'NodePort 30000 → 80' },
        { from: 'w_a', to: 'any_edge_out', kind: 'connection', label: '443 "x"' },
        { from: 'w_a', to: 'w_a', kind: 'scrape', label: 'scrapes 9090' },
      ],
    };
    const text = toMermaid(wiring);
    expect(text).toContain('w_a["a #34;quoted#34; #60;b#62; #35;1<br/>Deployment"]');
    expect(mermaidProblems(text)).toEqual([]);
    for (const environment of ['dev', 'staging', 'prod']) expect(mermaidProblems(toMermaid(wiringOf(synthEnvironment(environment))))).toEqual([]);
    // The check catches what Mermaid would not parse.
    expect(mermaidProblems('flowchart LR\n  a-b["x"]\n  w_a -->|"y"| w_b\n')).toEqual([
      'line 2 is not in the subset:   a-b["x"]',
      'line 3 uses w_a before declaring it',
      'line 3 uses w_b before declaring it',
    ]);
  });
});
