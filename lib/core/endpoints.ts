import * as kplus from 'cdk8s-plus-27';

/**
 * What a client needs to reach Prometheus. The Prometheus construct implements it; Grafana and
 * others take it, so they are wired to a construct rather than a URL string.
 */
export interface IPrometheusEndpoint {
  /** The Service in front of Prometheus. */
  readonly service: kplus.Service;
  /** The Service port of the HTTP API. */
  readonly port: number;
  /** In-cluster URL of the HTTP API, e.g. `http://dev-prometheus.platform-dev.svc:9090`. */
  readonly url: string;
  /** The pods behind `service`: clients are let through NetworkPolicies to these (see `allowConnection`). */
  readonly workload: kplus.Workload;
}

/** A Secret key holding a password, mounted into pods as a file (never an env var). */
export interface SecretKeyRef {
  /** The existing Secret; the stack never creates one with a value. */
  readonly secret: kplus.ISecret;
  /** The key inside the Secret. */
  readonly key: string;
}

/** A Redis user and its password: what a client logs in with (`AUTH <username> <password>`). */
export interface RedisCredentials {
  /** The Redis user name. */
  readonly username: string;
  /** Its password's Secret key, to mount as a file. */
  readonly password: SecretKeyRef;
}

/** What a client needs to reach Redis. The Redis construct implements it; the router takes it. */
export interface IRedisEndpoint {
  /** The client Service in front of Redis. */
  readonly service: kplus.Service;
  /** The Service port clients connect to. */
  readonly port: number;
  /** In-cluster host name of the client Service, e.g. `dev-redis.platform-dev.svc`. */
  readonly host: string;
  /** Whether clients must log in with a user name and password (RedisCredentials). */
  readonly requiresAuth: boolean;
  /** The pods behind `service`: clients are let through NetworkPolicies to these (see `allowConnection`). */
  readonly workload: kplus.Workload;
}
