import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { recommendedLabels } from '../core/labels';
import { rollOnChange } from '../core/rollout';
import { restrictPod, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../core/security';
import { PropValidator } from '../core/validation';
import { block, directive, renderNginxConf } from './conf';
import { Backend, IBackend, NGINX_IMAGE } from './nginx';

export interface ExampleBackendProps {
  /**
   * Unprivileged NGINX image that serves the answer.
   * @default NGINX_IMAGE
   */
  readonly image?: string;
}

const PORT = 8080;

/**
 * A stand-in backend that answers `backend <name> <uri>` (and `X-Backend: <name>`), so a fresh
 * environment routes end to end before real apps are wired in. Its name is its construct id.
 */
export class ExampleBackend extends Construct {
  public readonly service: kplus.Service;
  public readonly deployment: kplus.Deployment;
  /** This backend as an allowlist entry (with its pods, for NetworkPolicies). */
  public readonly backend: IBackend;

  constructor(scope: Construct, id: string, props: ExampleBackendProps = {}) {
    super(scope, id);
    const v = new PropValidator(this, 'ExampleBackend');
    v.dnsLabel('id', id);
    v.throwIfInvalid();

    const conf = renderNginxConf([
      directive('worker_processes', 1),
      directive('pid', '/tmp/nginx.pid'),
      directive('error_log', '/dev/stderr', 'warn'),
      block('events', [], [directive('worker_connections', 256)]),
      block('http', [], [
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => directive(`${t}_temp_path`, `/tmp/${t}`)),
        directive('access_log', 'off'),
        directive('server_tokens', 'off'),
        block('server', [], [
          directive('listen', PORT),
          block('location', ['=', '/healthz'], [directive('return', 200, 'ok\n')]),
          block('location', ['/'], [
            directive('default_type', 'text/plain'),
            directive('add_header', 'X-Backend', id, 'always'),
            directive('return', 200, `backend ${id} $request_uri\n`),
          ]),
        ]),
      ]),
    ]);
    const labels = recommendedLabels({ name: 'example-backend', instance: `${Chart.of(this).node.id}-${id}`, component: 'backend' });
    const configMap = new kplus.ConfigMap(this, 'config', { metadata: { labels }, data: { 'nginx.conf': conf } });
    this.deployment = new kplus.Deployment(this, 'Default', {
      metadata: { labels },
      podMetadata: { labels },
      replicas: 1,
      securityContext: restrictedPodSecurityContext(101),
      automountServiceAccountToken: false,
    });
    const container = this.deployment.addContainer({
      name: 'nginx',
      image: props.image ?? NGINX_IMAGE,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: ['nginx', '-c', '/etc/nginx/example/nginx.conf', '-g', 'daemon off;'],
      ports: [{ number: PORT, name: 'http' }],
      securityContext: restrictedContainerSecurityContext(101),
      resources: { cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(200) }, memory: { request: Size.mebibytes(16), limit: Size.mebibytes(64) } },
      readiness: kplus.Probe.fromHttpGet('/healthz', { port: PORT, periodSeconds: Duration.seconds(5) }),
      liveness: kplus.Probe.fromTcpSocket({ port: PORT, periodSeconds: Duration.seconds(15) }),
    });
    container.mount('/etc/nginx/example', kplus.Volume.fromConfigMap(this, 'config-volume', configMap), { readOnly: true });
    container.mount('/tmp', kplus.Volume.fromEmptyDir(this, 'tmp', 'tmp', { sizeLimit: Size.mebibytes(16) }));
    restrictPod(this.deployment);
    rollOnChange(this.deployment, 'nginx-conf', conf);
    this.service = new kplus.Service(this, 'Resource', { metadata: { labels }, selector: this.deployment, ports: [{ port: 80, targetPort: PORT, name: 'http' }] });
    this.backend = Backend.fromService(id, this.service, { workload: this.deployment });
  }
}
