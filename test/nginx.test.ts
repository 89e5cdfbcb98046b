import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { ServiceExposure } from '../lib';
import { Backend, IBackend, Nginx, NginxProps, addDynamicRouting, block, comment, directive, mapEntry, renderNginxConf } from '../lib/nginx';
import { IRouterEndpoint } from '../lib/router';
import { K8sObject, configMapFile, findObject, synthEnvironment, synthWith } from './support/synth';
import { restrictPod } from '../lib';

const router: IRouterEndpoint = { host: 'test-router.platform-test.svc', port: 8080, targets: ['app-a', 'app-b'], decisionInputs: [{ header: 'X-Tenant' }, { cookie: 'session-id' }] };
const backends: IBackend[] = [Backend.fromHost('app-a', 'app-a.shop.svc', 80), Backend.fromHost('app-b', 'app-b.shop.svc', 8080)];

function synthNginx(props: Partial<NginxProps> = {}): K8sObject[] {
  return synthWith((chart) => {
    new Nginx(chart, 'nginx', { router, backends, ...props });
  });
}

const conf = (objects: K8sObject[]) => configMapFile(objects, 'test-nginx-config', 'nginx.conf');
const pod = (objects: K8sObject[]) => findObject(objects, 'Deployment', 'test-nginx').spec.template;

describe('nginx.conf renderer', () => {
  test('quotes only what needs it, and escapes what nginx would read otherwise', () => {
    const text = renderNginxConf([
      comment('why'),
      block('http', [], [
        directive('return', 200, 'a "quoted" line\n'),
        directive('proxy_set_header', 'Content-Length', ''),
        directive('log_format', 'x', '$a {b}; #c'),
        block('map', ['$a', '$b'], [mapEntry('default', 'x'), mapEntry('~^a\\.b$', 'y')]),
        block('if', ['$a', '=', 'b'], [directive('return', 404)]),
      ]),
    ]);
    expect(text).toBe(
      '# why\nhttp {\n  return 200 "a \\"quoted\\" line\\n";\n  proxy_set_header Content-Length "";\n  log_format x "$a {b}; #c";\n' +
        '  map $a $b {\n    default x;\n    "~^a\\\\.b$" y;\n  }\n  if ($a = b) {\n    return 404;\n  }\n}\n',
    );
  });

  test('fails on what cannot be rendered', () => {
    expect(() => renderNginxConf([directive('bad name')])).toThrow('invalid nginx directive name "bad name"');
    expect(() => renderNginxConf([directive('return', 'a\0b')])).toThrow('contains a NUL');
  });
});

describe('Nginx', () => {
  test('defaults', () => {
    expect(synthNginx()).toMatchSnapshot();
  });

  test('routes through the router to an allowlist map, failing closed', () => {
    const text = conf(synthNginx());
    expect(text).toContain('  upstream router {\n    server test-router.platform-test.svc:8080;\n    keepalive 32;\n  }');
    expect(text).toContain('  upstream backend-app-b {\n    server app-b.shop.svc:8080;\n    keepalive 32;');
    expect(text).toContain('  map $route_target $route_upstream {\n    default route-refused;\n    app-a backend-app-a;\n    app-b backend-app-b;\n  }');
    expect(text).toContain('auth_request_set $route_target $upstream_http_x_route_target;');
    expect(text).toContain('proxy_pass http://$route_upstream;');
    // No resolver: nothing the router answers is ever resolved.
    expect(text).not.toMatch(/^\s*resolver\s/m);
    // The decision cache is on by default, for one second.
    expect(text).toContain('proxy_cache route_decisions;');
    expect(text).toContain('proxy_cache_valid 200 204 1s;');
    expect(conf(synthNginx({ decisionCacheTtl: Duration.seconds(0) }))).not.toContain('proxy_cache ');
  });

  test('an environment overrides the decision cache TTL, 0 turning it off', () => {
    const confOf = (decisionCacheTtlSeconds?: number) => {
      let conf = '';
      synthWith((chart) => {
        const nginx = decisionCacheTtlSeconds === undefined ? undefined : { decisionCacheTtl: Duration.seconds(decisionCacheTtlSeconds) };
        conf = addDynamicRouting(chart, { exampleBackends: ['echo-a'], defaultTarget: 'echo-a', nginx }).nginx.conf;
      });
      return conf;
    };
    expect(confOf()).toContain('proxy_cache_valid 200 204 1s;');
    expect(confOf(5)).toContain('proxy_cache_valid 200 204 5s;');
    expect(confOf(0)).not.toContain('proxy_cache ');
  });

  test('the decision cache keys on method, host, URI and the request fields the rules read', () => {
    const text = conf(synthNginx({ decisionCacheTtl: Duration.seconds(2) }));
    expect(text).toContain('proxy_cache_path /var/cache/nginx/route levels=1:2 keys_zone=route_decisions:1m');
    // Parts joined by a line break, which no part can hold (nginx-engine.test.ts tries '|').
    expect(text).toContain('proxy_cache_key "$request_method\\n$host$request_uri\\n$http_x_tenant\\n$http_cookie";');
    expect(text).toContain('proxy_cache_valid 200 204 2s;');
    // The router is sent the inputs from the key's own variables, none of the client's headers
    // ('session-id' has no $cookie_ variable: the whole Cookie header, as in the key).
    expect(text).toContain('proxy_pass_request_headers off;\n      proxy_set_header X-Tenant $http_x_tenant;\n      proxy_set_header Cookie $http_cookie;\n');
  });

  test('sends the router each cookie input from its own variable when nginx has one', () => {
    const text = conf(synthNginx({ router: { ...router, decisionInputs: [{ cookie: 'sid' }, { header: 'X-Beta' }, { cookie: 'beta' }, { cookie: 'sid' }] } }));
    expect(text).toContain('proxy_set_header X-Beta $http_x_beta;\n      proxy_set_header Cookie "sid=$cookie_sid; beta=$cookie_beta";\n');
    expect(text).toContain('proxy_cache_key "$request_method\\n$host$request_uri\\n$cookie_sid\\n$http_x_beta\\n$cookie_beta";');
  });

  test('fails on a decision input nginx could not send the router as read', () => {
    expect(() => synthNginx({ router: { ...router, decisionInputs: [{ header: 'X-Original-URI' }, { header: 'x-route-target' }, { header: 'X_Tenant' }, { cookie: 'a=b' }] } })).toThrow(
      "Nginx 'test/nginx' has 4 invalid props:\n" +
        "  - router.decisionInputs[0].header must be a header name (letters, digits, '-'), not one nginx sets on the router request (Host, Connection, Content-Length, X-Original-Host, X-Original-URI, X-Original-Method, X-Route-Target), got 'X-Original-URI'\n" +
        "  - router.decisionInputs[1].header must be a header name (letters, digits, '-'), not one nginx sets on the router request (Host, Connection, Content-Length, X-Original-Host, X-Original-URI, X-Original-Method, X-Route-Target), got 'x-route-target'\n" +
        "  - router.decisionInputs[2].header must be a header name (letters, digits, '-'), not one nginx sets on the router request (Host, Connection, Content-Length, X-Original-Host, X-Original-URI, X-Original-Method, X-Route-Target), got 'X_Tenant'\n" +
        "  - router.decisionInputs[3].cookie must be a cookie name (letters, digits, '_', '.', '-'), got 'a=b'",
    );
  });

  test('an unprivileged, restricted pod: read-only root, emptyDirs, distinct probes, resources, exporter', () => {
    const template = pod(synthNginx());
    const [nginx, exporter] = template.spec.containers;
    expect(template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 101, seccompProfile: { type: 'RuntimeDefault' } });
    expect(template.spec.automountServiceAccountToken).toBe(false);
    for (const container of [nginx, exporter]) {
      expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
      expect(Object.keys(container.resources)).toEqual(['limits', 'requests']);
      expect(container.readinessProbe).not.toEqual(container.livenessProbe);
    }
    expect(nginx.image).toBe('nginxinc/nginx-unprivileged:1.28.0-alpine');
    expect(nginx.command).toEqual(['nginx', '-c', '/etc/nginx/platform/nginx.conf', '-g', 'daemon off;']);
    expect(nginx.volumeMounts.map((m: { mountPath: string }) => m.mountPath).sort()).toEqual(['/etc/nginx/platform', '/tmp', '/var/cache/nginx']);
    expect(exporter.image).toBe('nginx/nginx-prometheus-exporter:1.5.1');
    expect(exporter.args).toEqual(['--nginx.scrape-uri=http://127.0.0.1:8082/stub_status', '--web.listen-address=:9113']);
    expect(template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9113', 'prometheus.io/path': '/metrics' });
  });

  test('a config change rolls the pods', () => {
    const checksum = (objects: K8sObject[]) => pod(objects).metadata.annotations['checksum/nginx-conf'];
    expect(checksum(synthNginx())).not.toBe(checksum(synthNginx({ routerTimeout: Duration.millis(800) })));
  });

  test('NodePort for dev, replicas with a PodDisruptionBudget for prod', () => {
    const dev = findObject(synthNginx({ expose: ServiceExposure.nodePort(30080) }), 'Service', 'test-nginx');
    expect(dev.spec).toMatchObject({ type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 30080, name: 'http' }] });
    const prod = synthNginx({ replicas: 3 });
    expect(findObject(prod, 'Deployment', 'test-nginx').spec.replicas).toBe(3);
    expect(findObject(prod, 'PodDisruptionBudget', 'test-nginx-pdb').spec).toMatchObject({ maxUnavailable: 1 });
  });

  test('takes backends from Services', () => {
    let nginx!: Nginx;
    synthWith((chart) => {
      const service = new kplus.Service(chart, 'shop', { ports: [{ port: 9000 }, { port: 9001 }] });
      nginx = new Nginx(chart, 'nginx', { router, backends: [Backend.fromService('app-a', service), Backend.fromService('app-b', service, { port: 9001 })] });
    });
    expect(nginx.confModel.backends).toEqual([{ name: 'app-a', address: 'test-shop.platform-test.svc:9000' }, { name: 'app-b', address: 'test-shop.platform-test.svc:9001' }]);
  });

  test('NetworkPolicies: clients in on 8080, out only to the router and the backends\' pods', () => {
    // GIVEN a backend whose workload is known, and one known only by host
    const objects = synthWith((chart) => {
      const shop = restrictPod(new kplus.Deployment(chart, 'shop', { containers: [{ image: 'shop:1.0', portNumber: 9090 }] }));
      const service = new kplus.Service(chart, 'shop-service', { selector: shop, ports: [{ port: 80, targetPort: 9090 }] });
      new Nginx(chart, 'nginx', { router, backends: [Backend.fromService('app-a', service, { workload: shop }), Backend.fromHost('app-b', 'app-b.other.svc', 8080)] });
    });
    const policy = (name: string) => findObject(objects, 'NetworkPolicy', name).spec;
    // THEN
    const everyAddress = (port: number) => [
      { from: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port, protocol: 'TCP' }] },
      { from: [{ namespaceSelector: {}, podSelector: {} }], ports: [{ port, protocol: 'TCP' }] },
    ];
    expect(policy('test-nginx-ingress-from-anywhere').ingress).toEqual(everyAddress(8080));
    expect(policy('test-nginx-egress-to-shop').egress[0].ports).toEqual([{ port: 9090, protocol: 'TCP' }]);
    expect(policy('test-nginx-egress-to-shop').egress[0].to[0].podSelector.matchLabels).toEqual(findObject(objects, 'Deployment', 'test-shop').spec.selector.matchLabels);
    expect(policy('test-shop-ingress-from-nginx').ingress[0].ports).toEqual([{ port: 9090, protocol: 'TCP' }]);
    expect(policy('test-nginx-egress-to-backend-app-b').egress).toEqual(everyAddress(8080).map(({ from, ports }) => ({ to: from, ports })));
    expect(policy('test-nginx-egress-to-router').egress[0].ports).toEqual([{ port: 8080, protocol: 'TCP' }]);
  });

  test('fails when the allowlist is empty', () => {
    expect(() => synthNginx({ backends: [], router: { host: 'r.svc', port: 80 } })).toThrow("Nginx 'test/nginx': backends must be not empty, got []");
  });

  test('fails when backends, routes, timeouts or exposure are invalid, listing every problem', () => {
    expect(() =>
      synthNginx({
        backends: [Backend.fromHost('default', 'a.svc', 80), Backend.fromHost('App', 'a.svc', 0), Backend.fromHost('app-a', 'a b', 80), Backend.fromHost('app-a', 'a.svc', 80)],
        directRoutes: [{ pathPrefix: 'static', backend: 'nope' }],
        routerTimeout: Duration.millis(0),
        decisionCacheTtl: Duration.hours(1),
        expose: ServiceExposure.nodePort(80),
        image: 'nginx:latest',
      }),
    ).toThrow(
      "Nginx 'test/nginx' has 12 invalid props:\n" +
        '  - expose.nodePort must be an integer from 30000 to 32767, got 80\n' +
        "  - backends[0].name must be not one of default|hostnames|include|volatile, got 'default'\n" +
        "  - backends[1].name must be a DNS label of at most 63 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'App'\n" +
        '  - backends[1].port must be an integer from 1 to 65535, got 0\n' +
        "  - backends[2].host must be a DNS name, got 'a b'\n" +
        "  - backends[].name must be unique, got 'app-a'\n" +
        "  - router.targets must be a backend name (default|App|app-a|app-a): the router can answer it, NGINX would refuse it, got 'app-b'\n" +
        "  - directRoutes[0].pathPrefix must be a path starting with '/', got 'static'\n" +
        "  - directRoutes[0].backend must be a backend name (default|App|app-a|app-a), got 'nope'\n" +
        "  - routerTimeout must be whole milliseconds from 10ms to 60s, got '0ms'\n" +
        "  - decisionCacheTtl must be whole seconds from 0 to 300s (5 minutes), got '3600s'\n" +
        "  - image must be an image pinned to a version (a tag other than 'latest', @sha256:<digest>, or both), got 'nginx:latest'",
    );
  });
});

describe('in the shipped environments', () => {
  test('dev: NodePort 30080; staging: ClusterIP; prod: 3 NGINX and 2 router replicas, each with a PDB', () => {
    const dev = synthEnvironment('dev');
    expect(findObject(dev, 'Service', 'dev-nginx').spec).toMatchObject({ type: 'NodePort', ports: [{ nodePort: 30080, port: 80, targetPort: 8080 }] });
    expect(findObject(synthEnvironment('staging'), 'Service', 'staging-nginx').spec.type).toBe('ClusterIP');
    const prod = synthEnvironment('prod');
    expect(findObject(prod, 'Service', 'prod-nginx').spec.type).toBe('ClusterIP');
    expect(findObject(prod, 'Deployment', 'prod-nginx').spec.replicas).toBe(3);
    expect(findObject(prod, 'Deployment', 'prod-router').spec.replicas).toBe(2);
    expect(prod.filter((o) => o.kind === 'PodDisruptionBudget').map((o) => o.metadata.name)).toEqual(expect.arrayContaining(['prod-nginx-pdb', 'prod-router-pdb']));
    expect(synthEnvironment('staging').filter((o) => /-(nginx|router)-pdb$/.test(o.metadata.name))).toEqual([]);
  });

  test('the allowlist is the example backends, reachable only from NGINX', () => {
    const dev = synthEnvironment('dev');
    expect(conf(dev.map((o) => (o.metadata.name === 'dev-nginx-config' ? { ...o, metadata: { ...o.metadata, name: 'test-nginx-config' } } : o)))).toContain(
      '  map $route_target $route_upstream {\n    default route-refused;\n    echo-a backend-echo-a;\n    echo-b backend-echo-b;\n  }',
    );
    expect(findObject(dev, 'NetworkPolicy', 'dev-example-backends-ingress-from-nginx').spec.ingress[0].ports).toEqual([{ port: 8080, protocol: 'TCP' }, { port: 8081, protocol: 'TCP' }]);
    expect(findObject(dev, 'NetworkPolicy', 'dev-nginx-egress-to-example-backends').spec.egress[0].ports).toEqual([{ port: 8080, protocol: 'TCP' }, { port: 8081, protocol: 'TCP' }]);
  });
});
