import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { registerConstruct } from '../core/construct';
import { imageVersion } from '../core/image';
import { recommendedLabels } from '../core/labels';
import { constructName, instanceName } from '../core/names';
import { applyCommonProps, checkCommonProps, CommonProps, setEphemeralStorage, SIDECAR_EPHEMERAL_STORAGE } from '../core/props';
import { rollOnChange } from '../core/rollout';
import { restrictPod, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../core/security';
import { PropValidator } from '../core/validation';
import { block, directive, renderNginxConf } from './conf';
import { Backend, IBackend, NGINX_IMAGE } from './nginx';

export interface ExampleBackendsProps extends CommonProps {
  /** Backend names; each is served on a port of its own (8080, 8081, ...). */
  readonly names: readonly string[];
  /**
   * Unprivileged NGINX image that serves the answers.
   * @default NGINX_IMAGE
   */
  readonly image?: string;
}

const FIRST_PORT = 8080;
const HEALTH_PORT = 8079;

/**
 * Stand-in backends, so a fresh environment routes end to end before real apps are wired in: one
 * small pod answers `backend <name> <uri>` (and `X-Backend: <name>`) on one port per name, behind
 * one Service with a port per name. One workload, not one per name: fewer objects, faster synth.
 */
export class ExampleBackends extends Construct {
  /** One Service with a port per name. */
  public readonly service: kplus.Service;
  /** The pod serving every name (construct id `Resource`). */
  public readonly deployment: kplus.Deployment;
  /** One allowlist entry per name (with the pods, for NetworkPolicies). */
  public readonly backends: readonly IBackend[];

  constructor(scope: Construct, id: string, props: ExampleBackendsProps) {
    super(scope, id);
    registerConstruct(this);
    const v = new PropValidator(this, 'ExampleBackends');
    checkCommonProps(v, props);
    if (props.image !== undefined) v.pinnedImage('image', props.image);
    v.nonEmpty('names', props.names);
    v.check(props.names.length <= 10, 'names', props.names, 'at most 10 names');
    props.names.forEach((name, i) => v.dnsLabel(`names[${i}]`, name));
    v.unique('names', props.names);
    v.throwIfInvalid();

    const ports = props.names.map((_, i) => FIRST_PORT + i);
    const conf = renderNginxConf([
      directive('worker_processes', 1),
      directive('pid', '/tmp/nginx.pid'),
      directive('error_log', '/dev/stderr', 'warn'),
      block('events', [], [directive('worker_connections', 256)]),
      block('http', [], [
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => directive(`${t}_temp_path`, `/tmp/${t}`)),
        directive('access_log', 'off'),
        directive('server_tokens', 'off'),
        directive('default_type', 'text/plain'),
        block('server', [], [directive('listen', HEALTH_PORT), block('location', ['/'], [directive('return', 200, 'ok\n')])]),
        ...props.names.map((name, i) =>
          block('server', [], [
            directive('listen', ports[i]),
            block('location', ['/'], [directive('add_header', 'X-Backend', name, 'always'), directive('return', 200, `backend ${name} $request_uri\n`)]),
          ]),
        ),
      ]),
    ]);
    const labels = recommendedLabels({ name: 'example-backends', instance: instanceName(this), component: 'backend', version: imageVersion(props.image ?? NGINX_IMAGE) });
    const configMap = new kplus.ConfigMap(this, 'config', { metadata: { labels }, data: { 'nginx.conf': conf } });
    this.deployment = new kplus.Deployment(this, 'Resource', {
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
      ports: [{ number: HEALTH_PORT, name: 'health' }, ...ports.map((number, i) => ({ number, name: `b${i}` }))],
      securityContext: restrictedContainerSecurityContext(101),
      resources: { cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(200) }, memory: { request: Size.mebibytes(16), limit: Size.mebibytes(64) } },
      readiness: kplus.Probe.fromHttpGet('/', { port: HEALTH_PORT, periodSeconds: Duration.seconds(5) }),
      liveness: kplus.Probe.fromTcpSocket({ port: HEALTH_PORT, periodSeconds: Duration.seconds(15) }),
    });
    setEphemeralStorage(this.deployment, container, SIDECAR_EPHEMERAL_STORAGE);
    container.mount('/etc/nginx/example', kplus.Volume.fromConfigMap(this, 'config-volume', configMap), { readOnly: true });
    container.mount('/tmp', kplus.Volume.fromEmptyDir(this, 'tmp', 'tmp', { sizeLimit: Size.mebibytes(16) }));
    restrictPod(this.deployment);
    rollOnChange(this.deployment, 'nginx-conf', conf);
    this.service = new kplus.Service(this, 'service', {
      metadata: { name: constructName(this), labels },
      selector: this.deployment,
      ports: props.names.map((name, i) => ({ port: ports[i], targetPort: ports[i], name })),
    });
    this.backends = props.names.map((name, i) => Backend.fromService(name, this.service, { port: ports[i], workload: this.deployment }));
    applyCommonProps(this, props);
  }
}
